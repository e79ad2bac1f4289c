// Names the Kubernetes streaming protocols agree on (k8s.io/api core/v1 and
// k8s.io/apimachinery/pkg/util/{remotecommand,portforward,httpstream}), gathered in one place
// so SPDY, WebSocket and the exec/attach/port-forward handlers spell them the same way.

/** SPDY stream header naming what a stream carries. */
export const STREAM_TYPE_HEADER = "streamType";
/** Port-forward SPDY headers: the pod port, and the id pairing a data and an error stream. */
export const PORT_HEADER = "port";
export const PORT_FORWARD_REQUEST_ID_HEADER = "requestID";

export const StreamType = {
  Stdin: "stdin",
  Stdout: "stdout",
  Stderr: "stderr",
  Error: "error",
  Resize: "resize",
  Data: "data",
} as const;
export type StreamTypeName = (typeof StreamType)[keyof typeof StreamType];

/** HTTP headers of the SPDY upgrade handshake. */
export const HEADER_CONNECTION = "Connection";
export const HEADER_UPGRADE = "Upgrade";
export const HEADER_PROTOCOL_VERSION = "X-Stream-Protocol-Version";
export const HEADER_ACCEPTED_PROTOCOL_VERSIONS = "X-Accepted-Stream-Protocol-Versions";
export const SPDY_31 = "SPDY/3.1";

/** remotecommand (exec/attach) protocol versions. */
export const StreamProtocol = {
  V1: "channel.k8s.io",
  V2: "v2.channel.k8s.io",
  V3: "v3.channel.k8s.io",
  V4: "v4.channel.k8s.io",
  V5: "v5.channel.k8s.io",
} as const;

/** What kubelet's streaming server offers for exec/attach over SPDY, most preferred first. */
export const SUPPORTED_STREAM_PROTOCOLS: readonly string[] = [
  StreamProtocol.V4,
  StreamProtocol.V3,
  StreamProtocol.V2,
  StreamProtocol.V1,
];

export const PORT_FORWARD_PROTOCOL_V1 = "portforward.k8s.io";
export const SUPPORTED_PORT_FORWARD_PROTOCOLS: readonly string[] = [PORT_FORWARD_PROTOCOL_V1];

/** WebSocket subprotocol prefix under which client-go tunnels SPDY (port-forward). */
export const WEBSOCKET_SPDY_TUNNELING_PREFIX = "SPDY/3.1+";
export const WEBSOCKET_SPDY_PORT_FORWARD_PROTOCOL = WEBSOCKET_SPDY_TUNNELING_PREFIX + PORT_FORWARD_PROTOCOL_V1;

/** Status reason and cause type the v4+ error stream uses for a non-zero exit. */
export const NON_ZERO_EXIT_CODE_REASON = "NonZeroExitCode";
export const EXIT_CODE_CAUSE_TYPE = "ExitCode";

/** Protocols whose error stream carries a JSON metav1.Status (older ones: plain text). */
export function usesStatusErrorStream(protocol: string): boolean {
  return protocol === StreamProtocol.V4 || protocol === StreamProtocol.V5;
}

/** Protocols with a resize stream (v3 introduced it). */
export function supportsResize(protocol: string): boolean {
  return protocol === StreamProtocol.V3 || usesStatusErrorStream(protocol);
}
