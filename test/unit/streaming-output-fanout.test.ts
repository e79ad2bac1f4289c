// The attach fan-out: every chunk to each attached client and on to the log, a slow client
// holding the output back until it drains, a gone or detached client never blocking it.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { OutputFanout } from "../../src/io/output-fanout.js";

const tick = () => new Promise((r) => setImmediate(r));

function collector(): { sink: Writable; chunks: string[] } {
  const chunks: string[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), cb()) });
  return { sink, chunks };
}

/** A sink that accepts one byte of buffer and completes writes only when told. */
function slowSink() {
  const pending: Array<() => void> = [];
  const chunks: string[] = [];
  const sink = new Writable({ highWaterMark: 1, write: (c: Buffer, _e, cb) => (chunks.push(c.toString()), pending.push(cb)) });
  return { sink, chunks, release: () => pending.splice(0).forEach((cb) => cb()) };
}

async function feed(fanout: OutputFanout, chunks: string[]): Promise<string[]> {
  const logged: string[] = [];
  fanout.on("data", (c: Buffer) => logged.push(c.toString()));
  for (const c of chunks) fanout.write(c);
  await tick();
  return logged;
}

describe("attach output fan-out", () => {
  it("copies every chunk to each client and to the log, in order", async () => {
    const fanout = new OutputFanout();
    const a = collector();
    const b = collector();
    fanout.attach(a.sink);
    fanout.attach(b.sink);
    const logged = await feed(fanout, ["1\n", "2\n", "3\n"]);
    assert.deepEqual(logged, ["1\n", "2\n", "3\n"]);
    assert.deepEqual(a.chunks, logged);
    assert.deepEqual(b.chunks, logged);
  });

  it("holds the output back while a client does not keep up", async () => {
    const fanout = new OutputFanout({ highWaterMark: 1 });
    const source = new PassThrough({ highWaterMark: 1 });
    source.pipe(fanout);
    const slow = slowSink();
    fanout.attach(slow.sink);
    const logged: string[] = [];
    fanout.on("data", (c: Buffer) => logged.push(c.toString()));
    for (let i = 0; i < 10; i++) source.write(`${i}`);
    await tick();
    assert.ok(logged.length < 10, `held back (${logged.length} logged)`);
    assert.ok(source.writableLength > 0, "the source is backed up");
    for (let i = 0; i < 20 && logged.length < 10; i++) {
      slow.release();
      await tick();
    }
    assert.equal(logged.join(""), "0123456789");
    assert.equal(slow.chunks.join(""), "0123456789");
  });

  it("drops a client that goes away or detaches, without blocking the log", async () => {
    const fanout = new OutputFanout();
    const gone = slowSink();
    const detached = slowSink();
    fanout.attach(gone.sink);
    const detach = fanout.attach(detached.sink);
    fanout.write("a");
    fanout.write("b");
    await tick();
    gone.sink.destroy();
    detach();
    detach();
    const logged = await feed(fanout, ["c"]);
    assert.equal(fanout.attached, 0);
    assert.ok(logged.join("").endsWith("c"), `log kept flowing: ${logged.join("")}`);
    assert.deepEqual(detached.chunks, ["a"], "nothing more after detaching");
  });

  it("attaching after the output ended is a no-op", async () => {
    const fanout = new OutputFanout();
    fanout.resume();
    fanout.end();
    await tick();
    const late = collector();
    const detach = fanout.attach(late.sink);
    assert.equal(fanout.attached, 0);
    detach();
  });
});
