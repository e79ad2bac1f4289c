// Where the metrics endpoint listens. metrics_address is "host:port" as containerd's
// [metrics] address; a bare ":port" means loopback, never every interface: exposing crib's
// metrics beyond the node is the operator's explicit choice ("0.0.0.0:9090").
import { invalidArgument } from "../errors.js";

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_METRICS_HOST = "127.0.0.1";

export function parseMetricsAddress(address: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(address.trim());
  if (!m) throw invalidArgument(`metrics_address ${JSON.stringify(address)}: expected host:port (e.g. 127.0.0.1:9090)`);
  const port = Number(m[3]);
  if (port > 65535) throw invalidArgument(`metrics_address ${JSON.stringify(address)}: port out of range`);
  const host = m[1] ?? (m[2] === "" || m[2] === undefined ? DEFAULT_METRICS_HOST : m[2]);
  return { host, port };
}

/** "127.0.0.1:9090", "[::1]:9090": the form an operator would type back. */
export function formatListenAddress(a: ListenAddress): string {
  return a.host.includes(":") ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
