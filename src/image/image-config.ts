// The OCI image config (the blob an image id names) and what the CRI derives from it:
// the chain id of the unpacked rootfs, the image user, and the verbose ImageStatus JSON
// with the field order and omissions of Go's encoding of image-spec's v1.Image.
import { createHash } from "node:crypto";
import type { ImageConfig } from "../oci/spec-types.js";

/** The image's runtime config: one type shared with the spec generation. */
export type OciImageConfig = ImageConfig;

export interface OciHistory {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** github.com/opencontainers/image-spec/specs-go/v1.Image */
export interface OciImage {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  config?: OciImageConfig;
  rootfs: { type: string; diff_ids: string[] };
  history?: OciHistory[];
}

/** Parses an image config blob; anything that is not an object with a rootfs is refused. */
export function parseImageConfig(blob: Uint8Array, digest: string): OciImage {
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(blob).toString("utf8"));
  } catch (e) {
    throw new Error(`unmarshal image config ${digest}: ${(e as Error).message}`);
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new Error(`unmarshal image config ${digest}: not a JSON object`);
  const img = v as Partial<OciImage>;
  const rootfs = img.rootfs ?? { type: "", diff_ids: [] };
  return { ...img, architecture: img.architecture ?? "", os: img.os ?? "", rootfs: { type: rootfs.type ?? "", diff_ids: rootfs.diff_ids ?? [] } };
}

const sha256 = (s: string) => "sha256:" + createHash("sha256").update(s).digest("hex");

/** identity.ChainID: the key of the top snapshot a pull unpacks the layers into. */
export function chainId(diffIds: readonly string[]): string {
  if (diffIds.length === 0) return "";
  let chain = diffIds[0]!;
  for (let i = 1; i < diffIds.length; i++) chain = sha256(`${chain} ${diffIds[i]}`);
  return chain;
}

/**
 * uid or user name of the image's User ("1000", "1000:1000", "nobody", "nobody:nogroup"):
 * a numeric user is a uid, anything else a name (containerd's getUserFromImage).
 */
export function imageUser(user: string | undefined): { uid?: bigint; username: string } {
  if (!user) return { username: "" };
  const name = user.split(":")[0]!;
  if (/^[+-]?\d+$/.test(name)) {
    const uid = BigInt(name);
    if (uid >= -(2n ** 63n) && uid < 2n ** 63n) return { uid, username: "" };
  }
  return { username: name };
}

const isEmpty = (v: unknown) =>
  v === undefined || v === null || v === "" || v === false || (Array.isArray(v) && v.length === 0) || (typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0);

function omitEmpty(entries: Array<[string, unknown]>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) if (!isEmpty(v)) out[k] = v;
  return out;
}

/** The image config as Go's json.Marshal writes an imagespec.Image (field order, omitempty). */
export function goImageSpec(img: OciImage): Record<string, unknown> {
  const c = img.config ?? {};
  const out: Record<string, unknown> = omitEmpty([
    ["created", img.created],
    ["author", img.author],
  ]);
  out["architecture"] = img.architecture;
  out["os"] = img.os;
  Object.assign(
    out,
    omitEmpty([
      ["os.version", img["os.version"]],
      ["os.features", img["os.features"]],
      ["variant", img.variant],
    ]),
  );
  // ImageConfig is a struct, so Go writes it even when every field is empty.
  out["config"] = omitEmpty([
    ["User", c.User],
    ["ExposedPorts", c.ExposedPorts],
    ["Env", c.Env],
    ["Entrypoint", c.Entrypoint],
    ["Cmd", c.Cmd],
    ["Volumes", c.Volumes],
    ["WorkingDir", c.WorkingDir],
    ["Labels", c.Labels],
    ["StopSignal", c.StopSignal],
    ["ArgsEscaped", c.ArgsEscaped],
  ]);
  out["rootfs"] = { type: img.rootfs.type, diff_ids: img.rootfs.diff_ids };
  if (img.history && img.history.length > 0) {
    out["history"] = img.history.map((h) =>
      omitEmpty([
        ["created", h.created],
        ["created_by", h.created_by],
        ["author", h.author],
        ["comment", h.comment],
        ["empty_layer", h.empty_layer],
      ]),
    );
  }
  return out;
}

/** ImageStatus verbose info["info"]: containerd's verboseImageInfo {chainID, imageSpec}. */
export function verboseImageInfo(chain: string, img: OciImage): string {
  return JSON.stringify({ chainID: chain, imageSpec: goImageSpec(img) });
}
