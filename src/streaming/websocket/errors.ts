// The server refused a WebSocket upgrade (crib's test clients).
export class WebSocketUpgradeError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(`websocket upgrade failed: HTTP ${status}: ${body.trim()}`);
    this.name = "WebSocketUpgradeError";
  }
}
