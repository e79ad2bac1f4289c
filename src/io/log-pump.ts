// Copies a container's stdout/stderr (FIFO read ends) into its CRI log file, the job of
// containerd's ContainerIO + criLogger. Both streams share one file with one writer, so
// records never interleave mid-line; a chunk becomes one append, never one write per line.
// Output is always drained, even without a log path or when the file cannot be written,
// because a full pipe would block the container. ReopenContainerLog swaps the file after
// the kubelet rotated it, in order with the writes around it.
import { close, constants, open, write } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { Readable } from "node:stream";
import { promisify } from "node:util";
import { messageOf } from "../errors.js";
import type { Logger } from "../log.js";
import { CriLogSplitter, wallClockNs, type LogStream } from "./cri-log-format.js";

const openFd = promisify(open) as (path: string, flags: number, mode: number) => Promise<number>;
const closeFd = promisify(close);
const writeFd = (fd: number, buf: Buffer, offset: number, length: number) =>
  new Promise<number>((resolve, reject) => write(fd, buf, offset, length, null, (err, n) => (err ? reject(err) : resolve(n))));

/** Above this much unwritten output the FIFOs are paused (the pipe buffers, then the container waits). */
const HIGH_WATER = 1 << 20;
const clock = wallClockNs();

/** containerd's openLogFile: the directory is created, the file appended to. */
async function openLogFile(path: string): Promise<number> {
  await mkdir(dirname(path), { recursive: true, mode: 0o755 });
  return openFd(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o640);
}

type QueueItem = Buffer | { reopen: (err?: Error) => void };

export interface LogPumpOptions {
  /** The CRI log file; "" discards the output (containerd: no log path, no logging). */
  path: string;
  /** max_container_log_line_size; <= 0: no limit. */
  maxLineSize: number;
  streams: Partial<Record<LogStream, Readable>>;
  logger: Logger;
  /** Identifies the container in crib's own log lines. */
  context: Record<string, string>;
}

export class LogPump {
  private fd: number | undefined;
  private readonly queue: QueueItem[] = [];
  private queuedBytes = 0;
  private draining: Promise<void> | undefined;
  private writeFailed = false;
  private readonly streams: Readable[] = [];
  private openStreams = 0;
  private streamsEnded!: () => void;
  /** Resolves when every stream ended and all their output is in the file (which is then closed). */
  readonly done: Promise<void>;

  private constructor(private readonly opts: LogPumpOptions) {
    const ended = new Promise<void>((r) => (this.streamsEnded = r));
    this.done = ended.then(() => this.flushAndClose());
  }

  /** Opens the log file and starts draining the streams. */
  static async start(opts: LogPumpOptions): Promise<LogPump> {
    const pump = new LogPump(opts);
    if (opts.path !== "") pump.fd = await openLogFile(opts.path);
    for (const [name, stream] of Object.entries(opts.streams) as [LogStream, Readable | undefined][]) {
      if (stream) pump.attach(name, stream);
    }
    if (pump.openStreams === 0) pump.streamsEnded();
    return pump;
  }

  private attach(name: LogStream, stream: Readable): void {
    this.streams.push(stream);
    this.openStreams++;
    const splitter = new CriLogSplitter({ stream: name, maxLineSize: this.opts.maxLineSize, clock });
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.enqueue(Buffer.concat(splitter.end()));
      if (--this.openStreams === 0) this.streamsEnded();
    };
    stream.on("data", (chunk: Buffer) => {
      if (this.opts.path === "") return;
      this.enqueue(Buffer.concat(splitter.push(chunk)));
    });
    stream.on("end", finish);
    stream.on("close", finish);
    stream.on("error", (e) => {
      this.opts.logger.warn(`reading container ${name} failed`, { ...this.opts.context, error: messageOf(e) });
      finish();
    });
  }

  private enqueue(buf: Buffer): void {
    if (buf.length === 0 || this.opts.path === "") return;
    this.queue.push(buf);
    this.queuedBytes += buf.length;
    if (this.queuedBytes > HIGH_WATER) for (const s of this.streams) s.pause();
    void this.drain();
  }

  /** The single writer: appends queued records in order and performs reopens between them. */
  private drain(): Promise<void> {
    this.draining ??= this.runQueue();
    return this.draining;
  }

  private async runQueue(): Promise<void> {
    await Promise.resolve(); // lets drain() record this run before it can finish
    try {
      while (this.queue.length > 0) {
        const item = this.queue.shift()!;
        if (Buffer.isBuffer(item)) {
          await this.append(item);
          this.queuedBytes -= item.length;
          if (this.queuedBytes <= HIGH_WATER / 2) for (const s of this.streams) if (s.isPaused()) s.resume();
        } else {
          await this.swapFile().then(
            () => item.reopen(),
            (e: Error) => item.reopen(e),
          );
        }
      }
    } finally {
      // No await between the last emptiness check and this: nothing can be left behind.
      this.draining = undefined;
    }
  }

  private async append(buf: Buffer): Promise<void> {
    if (this.fd === undefined) return;
    try {
      let off = 0;
      while (off < buf.length) off += await writeFd(this.fd, buf, off, buf.length - off);
      this.writeFailed = false;
    } catch (e) {
      // Keep draining the container's output; say so once per failure streak.
      if (!this.writeFailed) this.opts.logger.warn("writing container log failed", { ...this.opts.context, path: this.opts.path, error: messageOf(e) });
      this.writeFailed = true;
    }
  }

  private async swapFile(): Promise<void> {
    const fresh = await openLogFile(this.opts.path);
    const old = this.fd;
    this.fd = fresh;
    if (old !== undefined) await closeFd(old).catch(() => undefined);
  }

  /** Reopens the log file by its path (after rotation); records written before go to the old file. */
  reopen(): Promise<void> {
    if (this.opts.path === "") return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ reopen: (err) => (err ? reject(err) : resolve()) });
      void this.drain();
    });
  }

  private async flushAndClose(): Promise<void> {
    while (this.draining || this.queue.length > 0) await this.drain();
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await closeFd(fd).catch(() => undefined);
  }

  /** Stops reading (crib shutting down or the container being removed); what was read is still written. */
  stop(): void {
    for (const s of this.streams) s.destroy();
  }
}
