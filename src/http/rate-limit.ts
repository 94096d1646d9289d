/**
 * Token-bucket rate limiting keyed by address or account. `consume(key)` throws
 * LimitExceededError (429 M_LIMIT_EXCEEDED with retry_after_ms) when the bucket is empty.
 * Memory is bounded: buckets that have refilled completely are dropped on sweep.
 */
import { LimitExceededError } from "../errors/matrix-error.js";
import type { Clock } from "../util/clock.js";

export interface RateLimitSettings {
  perSecond: number;
  burst: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

const SWEEP_AT = 10_000;

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(private readonly settings: RateLimitSettings, private readonly clock: Clock) {}

  consume(key: string): void {
    const now = this.clock.now();
    const b = this.refill(this.buckets.get(key) ?? { tokens: this.settings.burst, updated: now }, now);
    if (b.tokens < 1) {
      const retryAfterMs = Math.ceil(((1 - b.tokens) / this.settings.perSecond) * 1000);
      this.buckets.set(key, b);
      throw new LimitExceededError("Too many requests", retryAfterMs);
    }
    b.tokens -= 1;
    this.buckets.set(key, b);
    if (this.buckets.size > SWEEP_AT) this.sweep(now);
  }

  private refill(b: Bucket, now: number): Bucket {
    const tokens = Math.min(this.settings.burst, b.tokens + ((now - b.updated) / 1000) * this.settings.perSecond);
    return { tokens, updated: now };
  }

  private sweep(now: number): void {
    for (const [k, b] of this.buckets) if (this.refill(b, now).tokens >= this.settings.burst) this.buckets.delete(k);
  }
}
