import { test } from "node:test";
import assert from "node:assert/strict";
import {
  CriLogSplitter,
  formatRFC3339Nano,
  parseCriLogLine,
  wallClockNs,
  type LogStream,
} from "../../src/io/cri-log-format.js";

// 2024-03-05T06:07:08Z
const T0 = 1709618828n * 1_000_000_000n;

test("timestamps are Go's RFC3339Nano", () => {
  const cases: [bigint, number, string][] = [
    [T0, 0, "2024-03-05T06:07:08Z"], // zero fraction: no dot
    [T0 + 123_456_789n, 0, "2024-03-05T06:07:08.123456789Z"],
    [T0 + 120_000_000n, 0, "2024-03-05T06:07:08.12Z"], // trailing zeros trimmed
    [T0 + 1n, 0, "2024-03-05T06:07:08.000000001Z"],
    [T0 + 500_000_000n, 120, "2024-03-05T08:07:08.5+02:00"],
    [T0, -330, "2024-03-05T00:37:08-05:30"],
    [0n, 0, "1970-01-01T00:00:00Z"],
  ];
  for (const [ns, offset, want] of cases) assert.equal(formatRFC3339Nano(ns, offset), want);
});

test("the wall clock has nanoseconds and stays within Date.now()'s millisecond", () => {
  let ms = 1_000;
  let hr = 5_000_000_000n;
  const clock = wallClockNs(
    () => ms,
    () => hr,
  );
  assert.equal(clock(), 1_000_000_000n);
  hr += 250_123n;
  assert.equal(clock(), 1_000_250_123n, "sub-millisecond progress from hrtime");
  hr += 2_000_000n; // hrtime ran ahead of the wall clock: re-anchor on Date.now()
  assert.equal(clock(), 1_000_000_000n);
  ms = 900; // the wall clock stepped back
  assert.equal(clock(), 900_000_000n);
  const real = wallClockNs();
  const a = real();
  assert.ok(a > 1_600_000_000_000_000_000n && a - BigInt(Date.now()) * 1_000_000n < 2_000_000n);
});

const fixedClock = () => T0 + 5n;
const splitter = (maxLineSize: number, stream: LogStream = "stdout") =>
  new CriLogSplitter({ stream, maxLineSize, clock: fixedClock, utcOffsetMinutes: () => 0 });
const text = (records: Buffer[]) => records.map((r) => r.toString("latin1"));
const run = (maxLineSize: number, chunks: string[], stream: LogStream = "stdout") => {
  const s = splitter(maxLineSize, stream);
  const out = chunks.flatMap((c) => s.push(Buffer.from(c, "latin1")));
  return text([...out, ...s.end()]);
};
const TS = "2024-03-05T06:07:08.000000005Z";

test("lines become F records; the record shape is exact", () => {
  assert.deepEqual(run(16, ["hello\nworld\n"]), [`${TS} stdout F hello\n`, `${TS} stdout F world\n`]);
  assert.deepEqual(run(16, ["oops\n"], "stderr"), [`${TS} stderr F oops\n`]);
  assert.deepEqual(run(16, ["\n\n"]), [`${TS} stdout F \n`, `${TS} stdout F \n`], "empty lines are kept");
  assert.deepEqual(run(16, []), []);
});

test("splitting across chunks, long lines, CRLF and EOF", () => {
  const cases: { name: string; max: number; chunks: string[]; want: [string, string][] }[] = [
    { name: "line across chunks", max: 16, chunks: ["hel", "lo wo", "rld\n"], want: [["F", "hello world"]] },
    { name: "CRLF dropped", max: 16, chunks: ["a\r\nb\r", "\n"], want: [["F", "a"], ["F", "b"]] },
    { name: "lone CR kept", max: 16, chunks: ["a\rb\n"], want: [["F", "a\rb"]] },
    { name: "exactly max is one F", max: 5, chunks: ["abcde\n"], want: [["F", "abcde"]] },
    { name: "max + 1", max: 5, chunks: ["abcdef\n"], want: [["P", "abcde"], ["F", "f"]] },
    { name: "twice max", max: 5, chunks: ["abcdefghij\n"], want: [["P", "abcde"], ["F", "fghij"]] },
    { name: "long line in pieces", max: 4, chunks: ["ab", "cdef", "ghijk", "\n"], want: [["P", "abcd"], ["P", "efgh"], ["F", "ijk"]] },
    { name: "max with CRLF straddling", max: 5, chunks: ["abcde\r", "\n"], want: [["F", "abcde"]] },
    { name: "CR then more text", max: 5, chunks: ["abcde\r", "x\n"], want: [["P", "abcde"], ["F", "\rx"]] },
    { name: "partial line at EOF is P", max: 16, chunks: ["done\nno newline"], want: [["F", "done"], ["P", "no newline"]] },
    { name: "long partial at EOF", max: 4, chunks: ["abcdefghij"], want: [["P", "abcd"], ["P", "efgh"], ["P", "ij"]] },
    { name: "CR at EOF stays", max: 16, chunks: ["x\r"], want: [["P", "x\r"]] },
    { name: "unlimited", max: -1, chunks: ["x".repeat(100_000), "\n"], want: [["F", "x".repeat(100_000)]] },
    { name: "zero is unlimited too", max: 0, chunks: ["abcdef\n"], want: [["F", "abcdef"]] },
  ];
  for (const c of cases) {
    const got = run(c.max, c.chunks).map((r) => {
      const rec = parseCriLogLine(Buffer.from(r, "latin1"));
      return [rec.tag, rec.content.toString("latin1")];
    });
    assert.deepEqual(got, c.want, c.name);
  }
});

test("bytes pass through untouched, even a cut inside a UTF-8 sequence", () => {
  const s = splitter(3);
  const input = Buffer.from("aé€\n", "utf8"); // 61 c3a9 e282ac 0a
  const records = [...s.push(input), ...s.end()].map((r) => parseCriLogLine(r));
  assert.deepEqual(
    records.map((r) => [r.tag, r.content.toString("hex")]),
    [
      ["P", "61c3a9"],
      ["F", "e282ac"],
    ],
  );
  assert.equal(Buffer.concat(records.map((r) => r.content)).toString("utf8"), "aé€", "the kubelet's join restores the text");
  // The splitter copies what it keeps: reusing the read buffer does not corrupt held data.
  const t = splitter(100);
  const buf = Buffer.from("held");
  t.push(buf);
  buf.fill(0x21);
  assert.equal(parseCriLogLine(t.push(Buffer.from("!\n"))[0]!).content.toString(), "held!");
});

test("parseCriLogLine rejects malformed lines", () => {
  assert.throws(() => parseCriLogLine(Buffer.from("nonsense\n")));
  assert.throws(() => parseCriLogLine(Buffer.from(`${TS} stdin F x\n`)));
  assert.throws(() => parseCriLogLine(Buffer.from(`${TS} stdout X x\n`)));
  assert.deepEqual(parseCriLogLine(Buffer.from(`${TS} stdout F a b c\n`)).content.toString(), "a b c");
});

// An independent model of containerd's redirectLogs over a bufio.Reader of
// min(4096, maxLen) bytes, to check the splitter against on random streams.
function containerdModel(data: Buffer, maxLen: number): [string, string][] {
  const bufSize = maxLen > 0 && maxLen < 4096 ? maxLen : 4096;
  let pos = 0;
  const readLine = (): { line: Buffer; isPrefix: boolean; eof: boolean } => {
    const window = data.subarray(pos, pos + bufSize);
    const nl = window.indexOf(0x0a);
    if (nl >= 0) {
      let line = window.subarray(0, nl + 1);
      pos += nl + 1;
      line = line.subarray(0, line.length - (line.length > 1 && line[line.length - 2] === 0x0d ? 2 : 1));
      return { line, isPrefix: false, eof: false };
    }
    if (window.length === bufSize) {
      let line = window;
      pos += bufSize;
      if (line[line.length - 1] === 0x0d) {
        pos -= 1;
        line = line.subarray(0, line.length - 1);
      }
      return { line, isPrefix: true, eof: false };
    }
    pos = data.length;
    return { line: window, isPrefix: false, eof: true };
  };
  const out: [string, string][] = [];
  let buf: Buffer[] = [];
  let length = 0;
  for (;;) {
    const { line, isPrefix, eof } = readLine();
    if (line.length > 0) {
      buf.push(line);
      length += line.length;
    }
    if (eof && length === 0) break;
    if (maxLen > 0 && length > maxLen) {
      const all = Buffer.concat(buf);
      out.push(["P", all.subarray(0, maxLen).toString("latin1")]);
      buf = [all.subarray(maxLen)];
      length -= maxLen;
    }
    if (isPrefix) continue;
    out.push([eof ? "P" : "F", Buffer.concat(buf).toString("latin1")]);
    buf = [];
    length = 0;
    if (eof) break;
  }
  return out;
}

test("the splitter matches containerd's redirectLogs on random streams and chunkings", () => {
  let seed = 42;
  const rand = (n: number) => {
    // mulberry32: a small PRNG whose low bits are usable, unlike a plain LCG's.
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  const alphabet = [0x61, 0x62, 0x0a, 0x0d, 0xc3, 0x20];
  for (let iter = 0; iter < 2000; iter++) {
    const data = Buffer.from(Array.from({ length: rand(60) }, () => alphabet[rand(alphabet.length)]!));
    const maxLen = [0, 2, 3, 5, 7, 64][rand(6)]!;
    const s = splitter(maxLen);
    const got: Buffer[] = [];
    for (let i = 0; i < data.length; ) {
      const n = 1 + rand(9);
      got.push(...s.push(data.subarray(i, i + n)));
      i += n;
    }
    got.push(...s.end());
    const records = got.map((r) => {
      const rec = parseCriLogLine(r);
      return [rec.tag, rec.content.toString("latin1")];
    });
    assert.deepEqual(records, containerdModel(data, maxLen), `data=${data.toString("hex")} max=${maxLen}`);
  }
});
