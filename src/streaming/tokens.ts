// One-time tokens for streaming URLs, as kubelet's streaming request cache hands them out
// (k8s.io/kubelet/pkg/cri/streaming/request_cache.go): Exec, Attach and PortForward store
// the validated request under a random token and return its URL; the first HTTP request
// carrying the token takes the request out, so a URL works once. Tokens expire after a
// minute, and at most 1000 may wait at once (more: RESOURCE_EXHAUSTED, as kubelet).
import { randomBytes } from "node:crypto";
import { CriError, Code } from "../errors.js";

/** kubelet's CacheTTL. */
export const TOKEN_TTL_MS = 60_000;
/** kubelet's MaxInFlight. */
export const MAX_TOKENS_IN_FLIGHT = 1000;
/** 128 bits (kubelet uses 64). */
const TOKEN_BYTES = 16;

interface Entry<T> {
  request: T;
  expiresAt: number;
}

export interface TokenCacheOptions {
  ttlMs?: number;
  maxInFlight?: number;
  /** Milliseconds; injectable for tests. */
  now?: () => number;
  /** Token generator; injectable for tests. */
  newToken?: () => string;
}

export const randomToken = (): string => randomBytes(TOKEN_BYTES).toString("base64url");

export class TokenCache<T> {
  /** Insertion order is expiry order (one TTL for all): the oldest entries come first. */
  private readonly entries = new Map<string, Entry<T>>();
  private readonly ttlMs: number;
  private readonly maxInFlight: number;
  private readonly now: () => number;
  private readonly newToken: () => string;

  constructor(options: TokenCacheOptions = {}) {
    this.ttlMs = options.ttlMs ?? TOKEN_TTL_MS;
    this.maxInFlight = options.maxInFlight ?? MAX_TOKENS_IN_FLIGHT;
    this.now = options.now ?? (() => Date.now());
    this.newToken = options.newToken ?? randomToken;
  }

  get size(): number {
    this.evictExpired();
    return this.entries.size;
  }

  /** Stores a request and returns its token. */
  insert(request: T): string {
    this.evictExpired();
    if (this.entries.size >= this.maxInFlight) {
      throw new CriError(Code.RESOURCE_EXHAUSTED, "maximum number of in-flight requests exceeded");
    }
    let token = this.newToken();
    while (this.entries.has(token)) token = this.newToken();
    this.entries.set(token, { request, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /** Takes the request out: a token is good once, and not after it expired. */
  consume(token: string): T | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    this.entries.delete(token);
    return entry.expiresAt > this.now() ? entry.request : undefined;
  }

  private evictExpired(): void {
    const now = this.now();
    for (const [token, entry] of this.entries) {
      if (entry.expiresAt > now) break;
      this.entries.delete(token);
    }
  }
}
