// The FIFO pool: FIFOs made ahead in batches are moved into a process's FIFO paths; an
// empty pool falls back to mkfifo; stop leaves nothing behind.
import { after, test } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FifoPool } from "../../src/io/fifo-pool.js";
import { createFifos, fifoSetIn } from "../../src/io/fifo.js";

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

test("createFifos with a pool moves pooled FIFOs into place and refills; stop removes the pool", async () => {
  const d = await mkdtemp(join(tmpdir(), "crib-fifo-pool-"));
  dirs.push(d);
  // A leftover of a previous run is cleared at start.
  const poolDir = join(d, "pool");
  await createFifos(fifoSetIn(poolDir, "stale", { stdin: false, terminal: true }));
  const pool = new FifoPool(poolDir, 4);
  await pool.start();
  assert.equal(pool.available, 4);
  assert.deepEqual((await readdir(poolDir)).length, 4);

  const set = fifoSetIn(join(d, "io"), "c1", { stdin: true, terminal: false });
  await createFifos(set, pool);
  for (const p of [set.stdin, set.stdout, set.stderr]) {
    const st = await stat(p);
    assert.ok(st.isFIFO(), `${p} is a FIFO`);
    assert.equal(st.mode & 0o777, 0o700);
  }
  // Three taken; below half a batch, a refill of 4 more runs in the background.
  for (let i = 0; i < 100 && pool.available < 5; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(pool.available, 5);

  // More than the pool holds: the rest comes from mkfifo.
  const many = Array.from({ length: 4 }, (_, i) => fifoSetIn(join(d, "io"), `m${i}`, { stdin: true, terminal: false }));
  for (const s of many) await createFifos(s, pool);
  for (const s of many) for (const p of [s.stdin, s.stdout, s.stderr]) assert.ok((await stat(p)).isFIFO());

  await pool.stop();
  assert.equal(existsSync(poolDir), false);
  // A stopped pool still works, through mkfifo.
  const late = fifoSetIn(join(d, "io"), "late", { stdin: false, terminal: true });
  await createFifos(late, pool);
  assert.ok((await stat(late.stdout)).isFIFO());
  assert.equal(existsSync(poolDir), false);
});

test("a FIFO that already exists is kept, not replaced from the pool", async () => {
  const d = await mkdtemp(join(tmpdir(), "crib-fifo-pool-"));
  dirs.push(d);
  const pool = new FifoPool(join(d, "pool"), 2);
  await pool.start();
  const set = fifoSetIn(join(d, "io"), "c", { stdin: false, terminal: true });
  await createFifos(set, pool);
  const ino = (await stat(set.stdout)).ino;
  await createFifos(set, pool);
  assert.equal((await stat(set.stdout)).ino, ino);
  await pool.stop();
});

test("take hands out pooled FIFOs where they are, then fresh ones in the pool's dir when it is empty", async () => {
  const d = await mkdtemp(join(tmpdir(), "crib-fifo-pool-"));
  dirs.push(d);
  const poolDir = join(d, "pool");
  const pool = new FifoPool(poolDir, 4);
  await pool.start();
  const first = await pool.take(2);
  assert.equal(first.length, 2);
  assert.equal(pool.available, 2);
  for (const p of first) {
    assert.equal(join(p, ".."), poolDir);
    const st = await stat(p);
    assert.ok(st.isFIFO(), `${p} is a FIFO`);
    assert.equal(st.mode & 0o777, 0o700);
  }
  // More than the pool holds (and more than a refill could have made meanwhile): all are FIFOs, all distinct.
  const many = await pool.take(20);
  assert.equal(new Set([...first, ...many]).size, 22);
  for (const p of many) assert.ok((await stat(p)).isFIFO());
  // The taker removes them; the pool never hands one out twice.
  for (const p of [...first, ...many]) await rm(p);
  for (let i = 0; i < 100 && pool.available < 4; i++) await new Promise((r) => setTimeout(r, 10));
  const again = await pool.take(4);
  for (const p of again) assert.ok((await stat(p)).isFIFO());
  await pool.stop();
  assert.equal(existsSync(poolDir), false);
});
