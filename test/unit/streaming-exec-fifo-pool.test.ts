// The exec FIFO pool: sets made ahead in batches, shaped per process, fresh every time,
// made on the spot when the pool runs dry, and nothing left once it stops.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync, statSync, existsSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ExecFifoPool } from "../../src/streaming/exec-fifo-pool.js";

const base = mkdtempSync(join(tmpdir(), "crib-fifo-pool-"));
after(() => rmSync(base, { recursive: true, force: true }));

const isFifo = (p: string) => statSync(p).isFIFO();

describe("exec FIFO pool", () => {
  it("starts empty of old FIFOs, then hands out whole, distinct, fresh sets shaped per process", async () => {
    const dir = join(base, "a");
    mkdirSync(dir);
    writeFileSync(join(dir, "stale-stdout"), "");
    const pool = new ExecFifoPool(dir, 4);
    await pool.start();
    assert.ok(!existsSync(join(dir, "stale-stdout")), "a previous run's files are gone");
    assert.equal(pool.available, 4);
    const plain = await pool.take({ stdin: false, terminal: false });
    assert.equal(plain.stdin, "");
    assert.ok(isFifo(plain.stdout) && isFifo(plain.stderr));
    const tty = await pool.take({ stdin: true, terminal: true });
    assert.equal(tty.stderr, "");
    assert.ok(isFifo(tty.stdin) && isFifo(tty.stdout));
    assert.notEqual(plain.stdout, tty.stdout);
    const names = readdirSync(dir);
    assert.ok(!names.includes(plain.stdout.split("/").pop()!.replace("stdout", "stdin")), "the unused stdin FIFO was removed");
    await pool.stop();
    assert.ok(!existsSync(dir));
  });

  it("makes a set on the spot when the pool runs dry, and refills in the background", async () => {
    const pool = new ExecFifoPool(join(base, "b"), 2);
    await pool.start();
    const sets = await Promise.all(Array.from({ length: 5 }, () => pool.take({ stdin: true, terminal: false })));
    assert.equal(new Set(sets.map((s) => s.stdout)).size, 5);
    for (const s of sets) assert.ok(isFifo(s.stdin) && isFifo(s.stdout) && isFifo(s.stderr));
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(pool.available > 0, "refilled");
    await pool.stop();
  });
});
