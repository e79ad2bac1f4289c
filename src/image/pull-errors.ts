// The gRPC code of a failed pull. containerd's Transfer service keeps NotFound (unknown
// repository, tag or digest) but reports registry refusals and network failures as
// Unknown with the HTTP/Go error in the text; crib gives them codes a client can act on:
//   401 from the registry          -> UNAUTHENTICATED (no or wrong credentials)
//   403 from the registry          -> PERMISSION_DENIED (credentials valid, access refused)
//   registry unreachable           -> UNAVAILABLE
//   no unpack for the snapshotter  -> FAILED_PRECONDITION, naming the containerd setting
//   anything else                  -> containerd's own code
import { Code, codeOf, CriError, messageOf } from "../errors.js";

const RULES: Array<[RegExp, Code]> = [
  [/\b401 Unauthorized\b|\bunauthorized\b|authorization failed|no basic auth credentials/i, Code.UNAUTHENTICATED],
  [/\b403 Forbidden\b|\bdenied\b/i, Code.PERMISSION_DENIED],
  [
    /connection refused|no such host|i\/o timeout|network is unreachable|no route to host|connection reset|server misbehaving|TLS handshake timeout|tls: |x509: |http: server gave HTTP response to HTTPS client|unexpected EOF/i,
    Code.UNAVAILABLE,
  ],
];

/** containerd's Transfer refuses to unpack for a snapshotter its unpack_config lacks. */
const NO_UNPACK_PLATFORM = /no unpack platforms defined/;

export function pullErrorCode(code: Code, message: string): Code {
  if (NO_UNPACK_PLATFORM.test(message)) return Code.FAILED_PRECONDITION;
  if (code === Code.NOT_FOUND || code === Code.INVALID_ARGUMENT || code === Code.CANCELLED || code === Code.DEADLINE_EXCEEDED) return code;
  for (const [re, c] of RULES) if (re.test(message)) return c;
  return code;
}

/** Wraps a transfer failure as containerd's CRI words it, with crib's code. */
export const UNPACK_CONFIG_HINT =
  'containerd\'s transfer service unpacks only for the platform/snapshotter pairs in [plugins."io.containerd.transfer.v1.local"] unpack_config: add crib\'s snapshotter there';

export function pullError(ref: string, e: unknown): CriError {
  if (e instanceof CriError && (e.code === Code.DEADLINE_EXCEEDED || e.code === Code.CANCELLED)) return e;
  let message = messageOf(e);
  if (NO_UNPACK_PLATFORM.test(message)) message += `; ${UNPACK_CONFIG_HINT}`;
  return new CriError(pullErrorCode(codeOf(e), message), `failed to pull and unpack image ${JSON.stringify(ref)}: ${message}`, { cause: e });
}
