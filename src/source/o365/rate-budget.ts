import type { Clock } from '../../contracts/clock.ts';

/**
 * One tenant's request budget (default 2,000 requests/min, Microsoft's baseline), shared by listing,
 * subscription calls and blob downloads. A token bucket holding a few seconds' worth, so bursts stay
 * small; a throttling answer pauses the whole budget until the wait is over.
 *
 * The service counts requests in a sliding minute. A bucket refilled at the full quota lets a
 * minute hold the quota plus one burst (a full bucket after a pause, then the refill): the bench saw
 * 1.4 % of a catch-up's requests throttled that way. So the refill rate leaves room for the burst:
 * rate × 60 s + burst = quota, i.e. quota / (60 s + burst seconds) per second — 97 % of the quota
 * with the default 2 s burst, and no sliding minute over it.
 */
export class RateBudget {
  readonly #clock: Clock;
  readonly #perMs: number;
  readonly #capacity: number;
  #tokens: number;
  #updatedAt: number;
  #pausedUntil = 0;
  /** Live takers waiting right now; background takers wait while there are any. */
  #liveWaiting = 0;

  constructor(requestsPerMinute: number, clock: Clock, burstSeconds = 2) {
    this.#clock = clock;
    this.#perMs = requestsPerMinute / (60_000 + burstSeconds * 1000);
    this.#capacity = Math.max(1, Math.floor(this.#perMs * burstSeconds * 1000));
    this.#tokens = this.#capacity;
    this.#updatedAt = clock.now();
  }

  /** Waits until a request may be sent. Rejects only when the signal aborts. */
  async take(signal?: AbortSignal): Promise<void> {
    this.#liveWaiting += 1;
    try {
      await this.#takeLive(signal);
    } finally {
      this.#liveWaiting -= 1;
    }
  }

  /**
   * The same budget for background work (the reconciliation sweep, issue 12): a token is taken only
   * when no live request is waiting and more than half the burst is left, so live polling always has
   * its burst and background work only gets what live polling leaves over.
   */
  background(): Pick<RateBudget, 'take' | 'pauseUntil'> {
    return { take: (signal) => this.#takeSpare(signal), pauseUntil: (untilMs) => this.pauseUntil(untilMs) };
  }

  async #takeSpare(signal?: AbortSignal): Promise<void> {
    const reserve = this.#capacity / 2;
    for (;;) {
      const now = this.#clock.now();
      this.#refill(now);
      const pause = this.#pausedUntil - now;
      if (pause > 0) {
        await this.#clock.sleep(pause, signal);
        continue;
      }
      if (this.#liveWaiting === 0 && this.#tokens >= 1 && this.#tokens - 1 >= Math.min(reserve, this.#capacity - 1)) {
        this.#tokens -= 1;
        return;
      }
      // Until the reserve is refilled, and at least one token's time, so waiting live takers go first.
      await this.#clock.sleep(Math.max(Math.ceil(1 / this.#perMs), Math.ceil((reserve + 1 - this.#tokens) / this.#perMs)), signal);
    }
  }

  async #takeLive(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const now = this.#clock.now();
      this.#refill(now);
      const pause = this.#pausedUntil - now;
      if (pause > 0) {
        await this.#clock.sleep(pause, signal);
        continue;
      }
      if (this.#tokens >= 1) {
        this.#tokens -= 1;
        return;
      }
      await this.#clock.sleep(Math.ceil((1 - this.#tokens) / this.#perMs), signal);
    }
  }

  /** Called on a throttling answer: nobody in this tenant sends until `untilMs`. */
  pauseUntil(untilMs: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, untilMs);
    this.#tokens = 0;
  }

  #refill(now: number): void {
    this.#tokens = Math.min(this.#capacity, this.#tokens + (now - this.#updatedAt) * this.#perMs);
    this.#updatedAt = now;
  }
}
