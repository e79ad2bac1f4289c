import { test } from "node:test";
import assert from "node:assert/strict";
import { CriLineSplitter, formatLogRecords, rfc3339Nano, type LogRecord } from "../../src/io/cri-log-lines.js";

const show = (rs: LogRecord[]) => rs.map((r) => `${r.tag}:${r.content.toString()}`);

function split(chunks: string[], maxLen: number, end = true): string[] {
  const s = new CriLineSplitter(maxLen);
  const out: LogRecord[] = [];
  for (const c of chunks) out.push(...s.push(Buffer.from(c)));
  if (end) out.push(...s.end());
  return show(out);
}

const cases: { name: string; chunks: string[]; maxLen: number; end?: boolean; want: string[] }[] = [
  { name: "one full line", chunks: ["hello\n"], maxLen: 16, want: ["F:hello"] },
  { name: "two lines in one chunk", chunks: ["a\nb\n"], maxLen: 16, want: ["F:a", "F:b"] },
  { name: "line across chunks", chunks: ["hel", "lo\nwor", "ld\n"], maxLen: 16, want: ["F:hello", "F:world"] },
  { name: "empty line", chunks: ["\n"], maxLen: 16, want: ["F:"] },
  { name: "CRLF loses the CR", chunks: ["dos\r\n"], maxLen: 16, want: ["F:dos"] },
  { name: "CR split from LF across chunks", chunks: ["dos\r", "\n"], maxLen: 16, want: ["F:dos"] },
  { name: "bare CR kept", chunks: ["a\rb\n"], maxLen: 16, want: ["F:a\rb"] },
  { name: "no newline at EOF is partial", chunks: ["tail"], maxLen: 16, want: ["P:tail"] },
  { name: "nothing at EOF after newline", chunks: ["x\n"], maxLen: 16, want: ["F:x"] },
  { name: "exactly max length is one full record", chunks: ["abcd\n"], maxLen: 4, want: ["F:abcd"] },
  { name: "longer than max splits as partials", chunks: ["abcdefghij\n"], maxLen: 4, want: ["P:abcd", "P:efgh", "F:ij"] },
  { name: "twice max: partial then full", chunks: ["abcdefgh\n"], maxLen: 4, want: ["P:abcd", "F:efgh"] },
  { name: "split across small chunks", chunks: ["ab", "cd", "ef", "\n"], maxLen: 4, want: ["P:abcd", "F:ef"] },
  { name: "CRLF right at the limit stays one record", chunks: ["abcd\r", "\n"], maxLen: 4, want: ["F:abcd"] },
  { name: "long unterminated output at EOF", chunks: ["abcdefghij"], maxLen: 4, want: ["P:abcd", "P:efgh", "P:ij"] },
  { name: "no limit", chunks: ["abcdefghij\n"], maxLen: 0, want: ["F:abcdefghij"] },
  { name: "partial emitted before the newline arrives", chunks: ["abcdef"], maxLen: 4, end: false, want: ["P:abcd"] },
];

for (const c of cases) {
  test(`CriLineSplitter: ${c.name}`, () => {
    assert.deepEqual(split(c.chunks, c.maxLen, c.end ?? true), c.want);
  });
}

test("CriLineSplitter: binary content is kept byte for byte", () => {
  const s = new CriLineSplitter(16);
  const [r] = s.push(Buffer.from([0xff, 0x00, 0xfe, 0x0a]));
  assert.deepEqual([...r!.content], [0xff, 0x00, 0xfe]);
});

test("rfc3339Nano matches Go's time.RFC3339Nano in UTC", () => {
  const table: [bigint, string][] = [
    [0n, "1970-01-01T00:00:00Z"],
    [1_700_000_000_123_456_789n, "2023-11-14T22:13:20.123456789Z"],
    [1_700_000_000_120_000_000n, "2023-11-14T22:13:20.12Z"],
    [1_700_000_000_000_000_001n, "2023-11-14T22:13:20.000000001Z"],
    [1_700_000_000_000_000_000n, "2023-11-14T22:13:20Z"],
  ];
  for (const [ns, want] of table) assert.equal(rfc3339Nano(ns), want);
});

test("formatLogRecords writes one CRI line per record", () => {
  const buf = formatLogRecords(
    [
      { tag: "P", content: Buffer.from("ab") },
      { tag: "F", content: Buffer.from("c") },
    ],
    "stderr",
    "2023-11-14T22:13:20.5Z",
  );
  assert.equal(buf.toString(), "2023-11-14T22:13:20.5Z stderr P ab\n2023-11-14T22:13:20.5Z stderr F c\n");
});
