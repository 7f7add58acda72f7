import type { Clock } from '../../contracts/clock.ts';

export interface RateBudgetOptions {
  /**
   * The window is a minute plus this much, so a request that reaches the service a little later
   * than it left here (a busy event loop, a slow connect) still finds its minute under the quota.
   * Default 1 s: 98 % of the quota at steady state.
   */
  marginMs?: number;
  /** Requests of the window that background takers leave to live ones. Default 2 s worth of the quota. */
  backgroundReserve?: number;
}

/**
 * One tenant's request budget (default 2,000 requests/min, Microsoft's baseline), shared by listing,
 * subscription calls and blob downloads. The service counts requests in a sliding minute, so this
 * counts them the same way: a request may go when fewer than the quota went in the last minute
 * (plus a margin). A backlog therefore starts at full speed — a few hundred blobs go out at once
 * instead of trickling at quota / 60 per second — and no sliding (or fixed) minute ever holds more
 * than the quota. A throttling answer pauses the whole budget until the wait is over.
 *
 * Memory: one timestamp per request of the last minute (an idle tenant holds a handful).
 */
export class RateBudget {
  readonly #clock: Clock;
  readonly #quota: number;
  readonly #windowMs: number;
  readonly #reserve: number;
  /** Admission times inside the window, oldest first, from `#head` on (compacted now and then). */
  #times: number[] = [];
  #head = 0;
  #pausedUntil = 0;
  /** Live takers waiting right now; background takers wait while there are any. */
  #liveWaiting = 0;

  constructor(requestsPerMinute: number, clock: Clock, options: RateBudgetOptions = {}) {
    this.#clock = clock;
    this.#quota = Math.max(1, Math.floor(requestsPerMinute));
    this.#windowMs = 60_000 + (options.marginMs ?? 1_000);
    this.#reserve = Math.min(this.#quota - 1, Math.max(0, Math.floor(options.backgroundReserve ?? (this.#quota * 2) / 60)));
  }

  /** Waits until a request may be sent. Rejects only when the signal aborts. */
  async take(signal?: AbortSignal): Promise<void> {
    // The common case — quota left, no pause — grants without a timer or a loop.
    if (this.#tryAdmit(this.#quota)) return;
    this.#liveWaiting += 1;
    try {
      await this.#wait(this.#quota, false, signal);
    } finally {
      this.#liveWaiting -= 1;
    }
  }

  /**
   * The same budget for background work (the reconciliation sweep, issue 12): a request goes only
   * when no live request is waiting and the window still has the reserve left, so live polling
   * always finds room and background work only gets what live polling leaves over.
   */
  background(): Pick<RateBudget, 'take' | 'pauseUntil'> {
    return { take: (signal) => this.#wait(this.#quota - this.#reserve, true, signal), pauseUntil: (untilMs) => this.pauseUntil(untilMs) };
  }

  /** Called on a throttling answer: nobody in this tenant sends until `untilMs`. */
  pauseUntil(untilMs: number): void {
    this.#pausedUntil = Math.max(this.#pausedUntil, untilMs);
  }

  /** Requests counted in the current window (tests, diagnostics). */
  inWindow(): number {
    this.#expire(this.#clock.now());
    return this.#times.length - this.#head;
  }

  async #wait(limit: number, background: boolean, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted();
      const now = this.#clock.now();
      const pause = this.#pausedUntil - now;
      if (pause > 0) {
        await this.#clock.sleep(pause, signal);
        continue;
      }
      if (!(background && this.#liveWaiting > 0) && this.#tryAdmit(limit, now)) return;
      await this.#clock.sleep(this.#waitMs(limit, now, background), signal);
    }
  }

  #tryAdmit(limit: number, now = this.#clock.now()): boolean {
    if (this.#pausedUntil > now) return false;
    this.#expire(now);
    if (this.#times.length - this.#head >= limit) return false;
    this.#times.push(now);
    return true;
  }

  /** How long until a slot under `limit` frees (at least one request's share of the minute for background takers, so live ones go first). */
  #waitMs(limit: number, now: number, background: boolean): number {
    const used = this.#times.length - this.#head;
    const minimum = background ? Math.ceil(this.#windowMs / this.#quota) : 1;
    if (used < limit) return minimum;
    const freeing = this.#times[this.#head + used - limit] ?? now;
    return Math.max(minimum, freeing + this.#windowMs - now);
  }

  #expire(now: number): void {
    const times = this.#times;
    while (this.#head < times.length && (times[this.#head] ?? now) <= now - this.#windowMs) this.#head += 1;
    // Drop the expired prefix once it is half the array: amortised O(1) per request.
    if (this.#head > 32 && this.#head * 2 > times.length) {
      times.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
