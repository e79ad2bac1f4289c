// The logger drops entries of a level that is off before formatting them, and still
// writes every enabled entry, with a child's metadata, as before.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Writable } from "node:stream";
import winston from "winston";
import { createLogger } from "../../src/log.js";

function captured(level: string) {
  const logger = createLogger(level, "json");
  logger.remove(logger.transports[0]!);
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  logger.add(new winston.transports.Stream({ stream }));
  return { logger, lines };
}

test("entries below the level are dropped without being formatted; others are written", () => {
  const { logger, lines } = captured("info");
  let formatted = 0;
  const fields = {
    get costly() {
      formatted++;
      return "x";
    },
  };
  logger.debug("hidden", fields);
  logger.log("debug", "hidden too", fields);
  logger.log({ level: "debug", message: "hidden as an object" });
  logger.info("shown", { a: 1 });
  logger.log("warn", "also shown", { b: 2 });
  assert.equal(formatted, 0, "a debug entry's fields were read");
  assert.deepEqual(
    lines.map((l) => [l["level"], l["message"], l["a"] ?? l["b"]]),
    [
      ["info", "shown", 1],
      ["warn", "also shown", 2],
    ],
  );
});

test("a level raised at run time takes effect, and a child keeps its metadata", () => {
  const { logger, lines } = captured("info");
  logger.debug("before");
  logger.level = "debug";
  logger.debug("after");
  logger.child({ component: "c" }).info("from child");
  logger.child({ component: "c" }).debug("debug from child");
  assert.deepEqual(
    lines.map((l) => [l["message"], l["component"]]),
    [
      ["after", undefined],
      ["from child", "c"],
      ["debug from child", "c"],
    ],
  );
});
