// Pod traffic shaping from the kubernetes.io/{ingress,egress}-bandwidth annotations, as
// containerd's internal/cri/bandwidth reads them: Kubernetes quantities in bits per
// second, refused below 1k or above 1P, passed to the bandwidth plugin with the burst
// left unlimited (MaxUint32).

export const INGRESS_BANDWIDTH_ANNOTATION = "kubernetes.io/ingress-bandwidth";
export const EGRESS_BANDWIDTH_ANNOTATION = "kubernetes.io/egress-bandwidth";
const MAX_UINT32 = 4294967295;
const MIN_RATE = 1_000;
const MAX_RATE = 1_000_000_000_000_000;

/** The CNI "bandwidth" capability (conventions document field names). */
export interface CniBandwidth {
  ingressRate?: number;
  ingressBurst?: number;
  egressRate?: number;
  egressBurst?: number;
}

const QUANTITY_RE = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const DECIMAL_SUFFIX: Record<string, number> = { n: -9, u: -6, m: -3, "": 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const BINARY_SUFFIX: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };

function formatError(s: string): Error {
  return new Error(
    `quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got ${JSON.stringify(s)})`,
  );
}

/**
 * The integer value of a Kubernetes resource quantity ("10M", "1.5Gi", "2e3"), rounded
 * up like resource.Quantity.Value(). Exact for the magnitudes bandwidth uses.
 */
export function parseQuantityValue(s: string): number {
  const m = QUANTITY_RE.exec(s.trim());
  if (!m || s.trim() !== s) throw formatError(s);
  const [, mantissa, suffix] = m as unknown as [string, string, string];
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(mantissa)) throw formatError(s);
  let pow10: number;
  let pow2 = 0;
  if (suffix in DECIMAL_SUFFIX) pow10 = DECIMAL_SUFFIX[suffix]!;
  else if (suffix in BINARY_SUFFIX) {
    pow10 = 0;
    pow2 = BINARY_SUFFIX[suffix]!;
  } else if (/^[eE][-+]?\d+$/.test(suffix)) pow10 = Number(suffix.slice(1));
  else throw new Error(`unable to parse quantity's suffix (got ${JSON.stringify(s)})`);

  // value = digits * 10^(pow10 - fractionDigits) * 2^pow2, computed exactly in BigInt.
  const negative = mantissa.startsWith("-");
  const [intPart, fracPart = ""] = mantissa.replace(/^[+-]/, "").split(".");
  let numerator = BigInt((intPart || "0") + fracPart) * 2n ** BigInt(pow2);
  let denominator = 1n;
  const exp = pow10 - fracPart.length;
  if (exp >= 0) numerator *= 10n ** BigInt(exp);
  else denominator = 10n ** BigInt(-exp);
  let value = numerator / denominator;
  if (!negative && numerator % denominator !== 0n) value += 1n; // round up, away from zero
  return Number(negative ? -value : value);
}

function rate(annotations: Record<string, string>, key: string): number | undefined {
  const s = annotations[key];
  if (s === undefined) return undefined;
  const v = parseQuantityValue(s);
  if (v < MIN_RATE) throw new Error("resource is unreasonably small (< 1kbit)");
  if (v > MAX_RATE) throw new Error("resource is unreasonably large (> 1Pbit)");
  return v;
}

/** The bandwidth capability for a pod, or undefined when neither annotation is set. */
export function podBandwidth(annotations: Record<string, string> | undefined): CniBandwidth | undefined {
  if (!annotations) return undefined;
  let ingress: number | undefined;
  let egress: number | undefined;
  try {
    ingress = rate(annotations, INGRESS_BANDWIDTH_ANNOTATION);
    egress = rate(annotations, EGRESS_BANDWIDTH_ANNOTATION);
  } catch (e) {
    throw new Error(`reading pod bandwidth annotations: ${(e as Error).message}`, { cause: e });
  }
  if (ingress === undefined && egress === undefined) return undefined;
  const bw: CniBandwidth = {};
  if (ingress !== undefined) Object.assign(bw, { ingressRate: ingress, ingressBurst: MAX_UINT32 });
  if (egress !== undefined) Object.assign(bw, { egressRate: egress, egressBurst: MAX_UINT32 });
  return bw;
}
