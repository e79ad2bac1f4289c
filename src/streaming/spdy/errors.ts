// A peer broke the SPDY protocol. The connection answers with GOAWAY (session errors) or
// RST_STREAM (stream errors) and closes; the error never escapes as an exception to the
// process, it is what the connection reports in its 'close' event.

export class SpdyProtocolError extends Error {
  constructor(
    message: string,
    /** Set when only one stream is at fault: reset that stream instead of the session. */
    readonly streamId?: number,
    /** RST_STREAM status to answer a stream error with (PROTOCOL_ERROR by default). */
    readonly rstStatus?: number,
  ) {
    super(message);
    this.name = "SpdyProtocolError";
  }
}
