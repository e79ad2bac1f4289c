// Real FIFOs in a temp dir: the open/read semantics the shim relies on, and that idle
// readers hold no threadpool thread.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, readFile, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFifos, fifoSetIn, openFifoReader, openFifoWriter, removeFifos } from "../../src/io/fifo.js";
import { LogPump } from "../../src/io/log-pump.js";
import { silentLogger } from "../../src/log.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), "crib-fifo-"));
  dirs.push(d);
  return d;
}

/** A writer process like the shim: opens the FIFO, writes, and exits (closing it). */
function writeWithShell(path: string, script: string): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const c = spawn("sh", ["-c", `exec 1>"$0"; ${script}`, path], { stdio: ["ignore", "ignore", "inherit"] });
    c.on("error", reject);
    c.on("exit", (code) => resolve(code));
  });
}

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = "";
    stream.on("data", (d: Buffer) => (s += d.toString()));
    stream.on("end", () => resolve(s));
    stream.on("error", reject);
  });
}

test("fifoSetIn names FIFOs like containerd and drops stderr with a terminal", () => {
  assert.deepEqual(fifoSetIn("/s/io", "abc", { stdin: false, terminal: false }), {
    dir: "/s/io",
    stdin: "",
    stdout: "/s/io/abc-stdout",
    stderr: "/s/io/abc-stderr",
    terminal: false,
  });
  const tty = fifoSetIn("/s/io", "abc", { stdin: true, terminal: true });
  assert.equal(tty.stdin, "/s/io/abc-stdin");
  assert.equal(tty.stderr, "");
});

test("createFifos makes FIFOs, is idempotent, removeFifos removes them", async () => {
  const set = fifoSetIn(join(await tempDir(), "io"), "c1", { stdin: true, terminal: false });
  await createFifos(set);
  await createFifos(set);
  for (const p of [set.stdin, set.stdout, set.stderr]) assert.ok((await stat(p)).isFIFO(), p);
  await removeFifos(set);
  for (const p of [set.stdin, set.stdout, set.stderr]) await assert.rejects(stat(p), /ENOENT/);
});

test("a reader with a placeholder sees everything and ends only after the writer closes", async () => {
  const set = fifoSetIn(await tempDir(), "c2", { stdin: false, terminal: false });
  await createFifos(set);
  const r = await openFifoReader(set.stdout);
  const text = collect(r.stream);
  // The writer comes and goes in several opens while the placeholder keeps the pipe alive.
  await writeWithShell(set.stdout, "echo one");
  await writeWithShell(set.stdout, "echo two");
  const last = writeWithShell(set.stdout, "sleep 0.2; echo three");
  await new Promise((res) => setTimeout(res, 50));
  await r.releasePlaceholder();
  await last;
  assert.equal(await text, "one\ntwo\nthree\n");
});

test("a reader whose placeholder is released with no writer left ends at once", async () => {
  const set = fifoSetIn(await tempDir(), "c3", { stdin: false, terminal: false });
  await createFifos(set);
  // As after a restart when the shim already closed its end: no writer ever shows up.
  const r = await openFifoReader(set.stdout);
  const text = collect(r.stream);
  await r.releasePlaceholder();
  assert.equal(await text, "");
});

test("the stdin writer opens without a reader and delivers once one comes", async () => {
  const set = fifoSetIn(await tempDir(), "c4", { stdin: true, terminal: false });
  await createFifos(set);
  const w = await openFifoWriter(set.stdin);
  w.write("ping\n");
  const out = await new Promise<string>((resolve, reject) => {
    const c = spawn("sh", ["-c", 'read line < "$0"; printf %s "$line"', set.stdin]);
    let s = "";
    c.stdout.on("data", (d: Buffer) => (s += d.toString()));
    c.on("error", reject);
    c.on("exit", () => resolve(s));
  });
  w.destroy();
  assert.equal(out, "ping");
});

test("200 idle FIFO readers leave the threadpool free", async () => {
  const dir = await tempDir();
  const readers = [];
  for (let i = 0; i < 200; i++) {
    const set = fifoSetIn(join(dir, "many"), `c${i}`, { stdin: false, terminal: false });
    await createFifos(set);
    readers.push(await openFifoReader(set.stdout));
  }
  const started = Date.now();
  // Threadpool work (4 threads by default) must still run at once.
  await Promise.all(Array.from({ length: 16 }, () => readFile("/proc/self/status")));
  assert.ok(Date.now() - started < 1000, "threadpool blocked by idle FIFO readers");
  for (const r of readers) r.destroy();
});

test("LogPump writes both streams as CRI records and reopens after rotation", async () => {
  const dir = await tempDir();
  const set = fifoSetIn(join(dir, "io"), "c5", { stdin: false, terminal: false });
  await createFifos(set);
  const out = await openFifoReader(set.stdout);
  const err = await openFifoReader(set.stderr);
  const logPath = join(dir, "logs", "c5.log");
  const pump = await LogPump.start({
    path: logPath,
    maxLineSize: 8,
    streams: { stdout: out.stream, stderr: err.stream },
    logger: silentLogger(),
    context: {},
  });
  await writeWithShell(set.stdout, "echo first; printf 'abcdefghijkl\\n'");
  await writeWithShell(set.stderr, "echo oops");
  // Wait for the records to land, then rotate like the kubelet: rename, then reopen.
  for (let i = 0; i < 50 && (await readFile(logPath, "utf8").catch(() => "")).split("\n").length < 5; i++)
    await new Promise((r) => setTimeout(r, 20));
  await rename(logPath, `${logPath}.1`);
  await pump.reopen();
  await writeWithShell(set.stdout, "printf 'no newline'");
  await out.releasePlaceholder();
  await err.releasePlaceholder();
  await pump.done;

  const line = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)) (stdout|stderr) ([PF]) (.*)$/;
  const parse = (text: string) =>
    text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => {
        const m = line.exec(l);
        assert.ok(m, `not a CRI log line: ${JSON.stringify(l)}`);
        return `${m[4]} ${m[5]} ${m[6]}`;
      });
  assert.deepEqual(parse(await readFile(`${logPath}.1`, "utf8")), ["stdout F first", "stdout P abcdefgh", "stdout F ijkl", "stderr F oops"]);
  assert.deepEqual(parse(await readFile(logPath, "utf8")), ["stdout P no newli", "stdout P ne"]);
});

test("LogPump without a path still drains the streams", async () => {
  const set = fifoSetIn(await tempDir(), "c6", { stdin: false, terminal: false });
  await createFifos(set);
  const out = await openFifoReader(set.stdout);
  const pump = await LogPump.start({ path: "", maxLineSize: 0, streams: { stdout: out.stream }, logger: silentLogger(), context: {} });
  // 256 KiB is more than a pipe holds: the writer only finishes if the pump reads.
  const code = await writeWithShell(set.stdout, "head -c 262144 /dev/zero");
  assert.equal(code, 0);
  await out.releasePlaceholder();
  await pump.done;
});
