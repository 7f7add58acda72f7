/**
 * Request quotas of the activity API (o365-api.md §2.4): a per-minute budget per pool. A request that
 * names a PublisherIdentifier counts against its tenant's pool for that publisher; requests without one
 * share a single global pool across all tenants, the "general pool" of TRB (§1.2, §2.4).
 */
export type ThrottleWindow = 'sliding' | 'fixed';

export const GLOBAL_PUBLISHER = '00000000-0000-0000-0000-000000000000';

export interface ThrottleDecision {
  allowed: boolean;
  /** Seconds until a request in this pool would be admitted again (for Retry-After). */
  retryAfterSeconds: number;
}

interface Pool {
  /** Sliding: admission times (ms) inside the last minute, oldest first. Fixed: unused. */
  times: number[];
  windowStart: number;
  count: number;
}

const MINUTE_MS = 60_000;

export class Throttle {
  readonly #window: ThrottleWindow;
  readonly #pools = new Map<string, Pool>();

  constructor(window: ThrottleWindow) {
    this.#window = window;
  }

  /** Counts one request against `poolKey` unless its quota for the current window is used up. */
  admit(poolKey: string, quotaPerMinute: number, nowMs: number): ThrottleDecision {
    let pool = this.#pools.get(poolKey);
    if (!pool) {
      pool = { times: [], windowStart: nowMs - (nowMs % MINUTE_MS), count: 0 };
      this.#pools.set(poolKey, pool);
    }
    return this.#window === 'sliding' ? this.#sliding(pool, quotaPerMinute, nowMs) : this.#fixed(pool, quotaPerMinute, nowMs);
  }

  reset(): void {
    this.#pools.clear();
  }

  #sliding(pool: Pool, quota: number, nowMs: number): ThrottleDecision {
    while (pool.times.length > 0 && (pool.times[0] ?? 0) <= nowMs - MINUTE_MS) pool.times.shift();
    if (pool.times.length >= quota) {
      const oldest = pool.times[0] ?? nowMs;
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((oldest + MINUTE_MS - nowMs) / 1000)) };
    }
    pool.times.push(nowMs);
    return { allowed: true, retryAfterSeconds: 0 };
  }

  #fixed(pool: Pool, quota: number, nowMs: number): ThrottleDecision {
    const windowStart = nowMs - (nowMs % MINUTE_MS);
    if (windowStart !== pool.windowStart) {
      pool.windowStart = windowStart;
      pool.count = 0;
    }
    if (pool.count >= quota) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((windowStart + MINUTE_MS - nowMs) / 1000)) };
    }
    pool.count++;
    return { allowed: true, retryAfterSeconds: 0 };
  }
}
