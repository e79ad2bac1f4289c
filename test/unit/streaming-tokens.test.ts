import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { status as Code } from "@grpc/grpc-js";
import { TokenCache, randomToken, TOKEN_TTL_MS } from "../../src/streaming/tokens.js";
import { codeOf } from "../../src/errors.js";

describe("streaming tokens", () => {
  it("are random, URL-safe and at least 128 bits", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const t = randomToken();
      assert.match(t, /^[A-Za-z0-9_-]+$/);
      assert.ok(Buffer.from(t, "base64url").length >= 16, `${t} carries >= 128 bits`);
      seen.add(t);
    }
    assert.equal(seen.size, 1000);
  });

  it("hand a request out once", () => {
    const cache = new TokenCache<string>();
    const token = cache.insert("exec");
    assert.equal(cache.consume(token), "exec");
    assert.equal(cache.consume(token), undefined);
    assert.equal(cache.consume("unknown"), undefined);
  });

  it("expire after a minute", () => {
    let now = 1_000_000;
    const cache = new TokenCache<string>({ now: () => now });
    const early = cache.insert("a");
    const late = cache.insert("b");
    now += TOKEN_TTL_MS - 1;
    assert.equal(cache.consume(early), "a", "still valid just before the minute");
    now += 1;
    assert.equal(cache.consume(late), undefined, "expired at the minute");
    assert.equal(cache.size, 0);
  });

  it("refuse more than maxInFlight waiting requests with RESOURCE_EXHAUSTED, until some expire", () => {
    let now = 0;
    const cache = new TokenCache<number>({ maxInFlight: 3, now: () => now });
    for (let i = 0; i < 3; i++) cache.insert(i);
    assert.throws(() => cache.insert(3), (e: unknown) => codeOf(e) === Code.RESOURCE_EXHAUSTED);
    now += TOKEN_TTL_MS;
    assert.doesNotThrow(() => cache.insert(4));
    assert.equal(cache.size, 1);
  });

  it("never reuse a token that is still waiting", () => {
    const tokens = ["same", "same", "other"];
    const cache = new TokenCache<string>({ newToken: () => tokens.shift()! });
    assert.equal(cache.insert("first"), "same");
    assert.equal(cache.insert("second"), "other");
    assert.equal(cache.consume("same"), "first");
  });
});
