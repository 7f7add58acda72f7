import { setTimeout as sleep } from 'node:timers/promises';
import { Rng } from './prng.ts';
import type { EndpointName } from './stats.ts';

/**
 * An optional model of how long Microsoft takes to answer, so concurrency and the request quota — not
 * loopback — set a client's pace (benchmarks; off unless `latency` is given). Each request waits a
 * seeded log-normal delay before its first byte (listings and blob downloads have their own medians),
 * and a blob body is paced to a per-download bandwidth.
 *
 * Defaults are [SIM] choices: o365-api.md gives no request-latency figures (its §2.5 is about event →
 * availability, 60–90 minutes), so they are set at public-cloud HTTPS magnitudes — a few hundred
 * milliseconds to the first byte, a listing page slower than a small blob, a few MB/s per stream.
 */
export interface LatencyOptions {
  /** Median time to the first byte of a content listing page. Default 300. */
  listingMedianMs?: number;
  /** Median time to the first byte of a blob download. Default 200. */
  blobFirstByteMedianMs?: number;
  /** Median for every other activity-API call (subscriptions). Default 150. */
  otherMedianMs?: number;
  /** Log-normal sigma of every delay (0 = always the median; 0.5 puts p99 at ~3.2× the median). Default 0.5. */
  spread?: number;
  /** Body bandwidth of one blob download, bytes per second. Default 8 MB/s. */
  blobBytesPerSecond?: number;
}

export const LATENCY_DEFAULTS = {
  listingMedianMs: 300,
  blobFirstByteMedianMs: 200,
  otherMedianMs: 150,
  spread: 0.5,
  blobBytesPerSecond: 8_000_000,
} as const satisfies Required<LatencyOptions>;

export class LatencyModel {
  readonly #options: Required<LatencyOptions>;
  readonly #rng: Rng;

  constructor(options: LatencyOptions, seed: string) {
    this.#options = { ...LATENCY_DEFAULTS, ...options };
    this.#rng = new Rng(`${seed}|latency`);
  }

  get options(): Readonly<Required<LatencyOptions>> {
    return this.#options;
  }

  /** The delay before the first byte of one request to `endpoint` (the next draw of the seeded sequence). */
  firstByteMs(endpoint: EndpointName): number {
    const o = this.#options;
    const median = endpoint === 'blob' ? o.blobFirstByteMedianMs : endpoint === 'subscriptions-content' || endpoint === 'subscriptions-notifications' ? o.listingMedianMs : o.otherMedianMs;
    return median * Math.exp(o.spread * this.#normal());
  }

  /** A pacer for one blob body: call after each write with the bytes sent so far. */
  pacer(): (sentBytes: number) => Promise<void> {
    const started = performance.now();
    const perMs = this.#options.blobBytesPerSecond / 1000;
    return async (sentBytes) => {
      const ahead = sentBytes / perMs - (performance.now() - started);
      if (ahead >= 1) await sleep(ahead);
    };
  }

  /** Standard normal by Box–Muller; 1 − u keeps the logarithm finite. */
  #normal(): number {
    const u = 1 - this.#rng.next();
    const v = this.#rng.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}
