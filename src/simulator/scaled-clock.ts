import { systemClock, type Clock } from '../contracts/clock.ts';

/**
 * Simulator time on a compressed clock: it starts at the wall clock and runs `speed` times faster,
 * so content recorded as listed hours late (fixtures' `availableAfterMinutes`) shows up within
 * seconds of a replay, in its recorded order. Sleeps are shortened by the same factor.
 */
export class ScaledClock implements Clock {
  readonly speed: number;
  readonly #startSimMs: number;
  readonly #startRealMs: number;
  readonly #realNow: () => number;

  constructor(speed: number, startMs: number = Date.now(), realNow: () => number = Date.now) {
    if (!Number.isFinite(speed) || speed <= 0) throw new RangeError(`speed must be a positive number, got ${speed}`);
    this.speed = speed;
    this.#realNow = realNow;
    this.#startRealMs = realNow();
    this.#startSimMs = startMs;
  }

  now(): number {
    return Math.floor(this.#startSimMs + (this.#realNow() - this.#startRealMs) * this.speed);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return systemClock.sleep(ms / this.speed, signal);
  }
}
