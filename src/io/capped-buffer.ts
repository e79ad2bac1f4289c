// Collects a stream's bytes up to a limit and drops the rest, so a chatty process can
// neither grow crib's memory nor block on a full pipe (the caller keeps draining).
export class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }

  bytes(): Buffer {
    return Buffer.concat(this.chunks, this.size);
  }

  text(): string {
    return this.bytes().toString("utf8");
  }
}
