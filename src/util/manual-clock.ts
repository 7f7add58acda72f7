import type { Clock } from '../contracts/clock.ts';

/**
 * A clock moved by hand: `now()` changes only through `advance`/`set`, and `sleep` resolves once the
 * clock has been moved past its deadline. Tests use it to cross the 15-minute start rule, throttling
 * windows, backoff and 7-day expiry without waiting; the simulator uses it for a frozen clock, so its
 * generated data stays a fixed set while a connector collects it.
 */
export class ManualClock implements Clock {
  #now: number;
  #sleepers: { until: number; resolve: () => void }[] = [];

  constructor(startMs: number = Date.UTC(2026, 0, 15, 12, 0, 0)) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): void {
    this.set(this.#now + ms);
  }

  /** Sleeps waiting on this clock: lets a test wait until the code under test is idle. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  set(ms: number): void {
    this.#now = ms;
    const due = this.#sleepers.filter((s) => s.until <= ms);
    this.#sleepers = this.#sleepers.filter((s) => s.until > ms);
    for (const s of due) s.resolve();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(signal.reason as Error);
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const sleeper = { until: this.#now + ms, resolve };
      this.#sleepers.push(sleeper);
      signal?.addEventListener(
        'abort',
        () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
          reject(signal.reason as Error);
        },
        { once: true },
      );
    });
  }
}
