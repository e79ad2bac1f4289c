// The error stream of an exec. v4 and later carry a JSON metav1.Status, byte for byte what
// kubelet's ServeExec writes (Go's encoding/json: struct field order, omitempty, HTML-safe
// escaping); client-go turns it into the exit code kubectl and crictl report. v1-v3 carry
// only the failure message as text, and nothing on success.
import { EXIT_CODE_CAUSE_TYPE, NON_ZERO_EXIT_CODE_REASON, usesStatusErrorStream } from "./constants.js";

export interface StatusCause {
  /** Serialized as "reason" (metav1.StatusCause.Type). */
  type?: string;
  message?: string;
  field?: string;
}

export interface Status {
  status: "Success" | "Failure";
  message?: string;
  reason?: string;
  causes?: StatusCause[];
  code?: number;
}

export const successStatus = (): Status => ({ status: "Success" });

/**
 * A process that exited with a non-zero code. `detail` is the executor's error text; kubelet
 * wraps it as "command terminated with non-zero exit code: <detail>".
 */
export function nonZeroExitStatus(exitCode: number, detail: string): Status {
  return {
    status: "Failure",
    message: `command terminated with non-zero exit code: ${detail}`,
    reason: NON_ZERO_EXIT_CODE_REASON,
    causes: [{ type: EXIT_CODE_CAUSE_TYPE, message: String(exitCode) }],
  };
}

/** containerd's CRI words for a non-zero exit (its CodeExitError), reused as the detail. */
export function execExitDetail(command: readonly string[], exitCode: number): string {
  return `error executing command [${command.join(" ")}], exit code ${exitCode}`;
}

/** apierrors.NewInternalError(fmt.Errorf("error executing command in container: %v", err)). */
export function internalErrorStatus(error: string): Status {
  const wrapped = `error executing command in container: ${error}`;
  return {
    status: "Failure",
    message: `Internal error occurred: ${wrapped}`,
    reason: "InternalError",
    causes: [{ message: wrapped }],
    code: 500,
  };
}

/** Go's json.Marshal string escaping: JSON plus \u003c \u003e \u0026 \u2028 \u2029. */
export function goJsonString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function causeJson(c: StatusCause): string {
  const fields: string[] = [];
  if (c.type) fields.push(`"reason":${goJsonString(c.type)}`);
  if (c.message) fields.push(`"message":${goJsonString(c.message)}`);
  if (c.field) fields.push(`"field":${goJsonString(c.field)}`);
  return `{${fields.join(",")}}`;
}

/** metav1.Status as json.Marshal writes it (TypeMeta empty, ListMeta always present). */
export function encodeStatus(status: Status): string {
  const fields = ['"metadata":{}', `"status":${goJsonString(status.status)}`];
  if (status.message) fields.push(`"message":${goJsonString(status.message)}`);
  if (status.reason) fields.push(`"reason":${goJsonString(status.reason)}`);
  if (status.causes && status.causes.length > 0) fields.push(`"details":{"causes":[${status.causes.map(causeJson).join(",")}]}`);
  if (status.code) fields.push(`"code":${status.code}`);
  return `{${fields.join(",")}}`;
}

/** What to write on the error stream for the negotiated protocol (empty: write nothing). */
export function errorStreamPayload(protocol: string, status: Status): Buffer {
  if (usesStatusErrorStream(protocol)) return Buffer.from(encodeStatus(status));
  return Buffer.from(status.status === "Success" ? "" : (status.message ?? ""));
}

/** Reads a v4 error stream the way client-go does: the exit code, or the failure message. */
export function decodeStatus(json: string): { exitCode: number } | { error: string } {
  if (json.trim() === "") return { exitCode: 0 };
  const parsed = JSON.parse(json) as {
    status?: string;
    message?: string;
    reason?: string;
    details?: { causes?: Array<{ reason?: string; message?: string }> };
  };
  if (parsed.status === "Success") return { exitCode: 0 };
  if (parsed.reason === NON_ZERO_EXIT_CODE_REASON) {
    const cause = parsed.details?.causes?.find((c) => c.reason === EXIT_CODE_CAUSE_TYPE);
    const code = Number.parseInt(cause?.message ?? "", 10);
    if (Number.isInteger(code)) return { exitCode: code };
  }
  return { error: parsed.message ?? json };
}
