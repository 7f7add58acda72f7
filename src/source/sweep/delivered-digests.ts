import { createHash } from 'node:crypto';
import type { SweepState } from '../../contracts/delivered-log.ts';

export const DAY_MS = 86_400_000;

/**
 * A contentId as 8 bytes (the first 64 bits of its SHA-256). Two blobs of one tenant and day sharing
 * them — the only way a late blob could be mistaken for a delivered one — is about n²/2⁶⁵ likely:
 * below 10⁻⁹ for 100,000 blobs a day.
 */
export function contentIdHash(contentId: string): bigint {
  return createHash('sha256').update(contentId).digest().readBigUInt64BE(0);
}

/** The unsorted tail is packed past max(32, 1/8 of the sorted part): bounded memory, amortised O(1) adds. */
const MIN_TAIL = 32;

/** One day's hashes: a sorted typed array (8 bytes each) plus a short unsorted tail of recent ones. */
class DayBucket {
  #sorted = new BigUint64Array(0);
  #tail: bigint[] = [];

  has(hash: bigint): boolean {
    if (this.#tail.includes(hash)) return true;
    let low = 0;
    let high = this.#sorted.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = this.#sorted[mid] ?? 0n;
      if (value === hash) return true;
      if (value < hash) low = mid + 1;
      else high = mid - 1;
    }
    return false;
  }

  add(hash: bigint): void {
    if (this.has(hash)) return;
    this.#tail.push(hash);
    if (this.#tail.length >= Math.max(MIN_TAIL, this.#sorted.length >>> 3)) this.#compact();
  }

  get size(): number {
    return this.#sorted.length + this.#tail.length;
  }

  /** Moves the tail into the sorted array (a bigint in an array costs several times its 8 bytes). */
  compact(): void {
    if (this.#tail.length === 0) return;
    this.#compact();
  }

  #compact(): void {
    const tail = BigUint64Array.from(this.#tail).sort();
    const sorted = this.#sorted;
    const merged = new BigUint64Array(sorted.length + tail.length);
    let i = 0;
    let j = 0;
    let k = 0;
    while (i < sorted.length && j < tail.length) {
      const a = sorted[i] ?? 0n;
      const b = tail[j] ?? 0n;
      if (a <= b) {
        merged[k++] = a;
        i += 1;
      } else {
        merged[k++] = b;
        j += 1;
      }
    }
    while (i < sorted.length) merged[k++] = sorted[i++] ?? 0n;
    while (j < tail.length) merged[k++] = tail[j++] ?? 0n;
    this.#sorted = merged;
    this.#tail = [];
  }
}

interface KeyDigest {
  days: Map<number, DayBucket>;
  state: SweepState | undefined;
}

/**
 * The delivered blobs of every (tenant, content type), by UTC day of contentCreated, as 8-byte
 * hashes: about 8 bytes per blob of the last 7 days plus ~100 bytes per non-empty day. Pure; the
 * stores feed it from their records.
 */
export class DeliveredDigests {
  readonly #keys = new Map<string, KeyDigest>();

  add(key: string, hash: bigint, createdMs: number): void {
    const digest = this.#digest(key);
    const day = Math.floor(createdMs / DAY_MS);
    let bucket = digest.days.get(day);
    if (bucket === undefined) {
      bucket = new DayBucket();
      digest.days.set(day, bucket);
    }
    bucket.add(hash);
  }

  /** Looks in the blob's day and its neighbours, so a contentCreated rounded differently is still found. */
  has(key: string, hash: bigint, createdMs: number): boolean {
    const digest = this.#keys.get(key);
    if (digest === undefined) return false;
    const day = Math.floor(createdMs / DAY_MS);
    for (const d of [day, day - 1, day + 1]) if (digest.days.get(d)?.has(hash) === true) return true;
    return false;
  }

  state(key: string): SweepState | undefined {
    return this.#keys.get(key)?.state;
  }

  setState(key: string, state: SweepState): void {
    this.#digest(key).state = { ...state };
  }

  /**
   * Forgets the days wholly before `oldestMs` (the API no longer lists them) and packs every tail, so
   * idle tenants hold 8 bytes per blob. Called at start and before each sweep.
   */
  prune(oldestMs: number): void {
    const oldestDay = Math.floor(oldestMs / DAY_MS) - 1;
    for (const digest of this.#keys.values()) {
      for (const [day, bucket] of digest.days) {
        if (day < oldestDay) digest.days.delete(day);
        else bucket.compact();
      }
    }
  }

  /** Counts for the start-up log line and the memory figure. */
  stats(): { keys: number; days: number; blobs: number } {
    let days = 0;
    let blobs = 0;
    for (const digest of this.#keys.values()) {
      days += digest.days.size;
      for (const bucket of digest.days.values()) blobs += bucket.size;
    }
    return { keys: this.#keys.size, days, blobs };
  }

  #digest(key: string): KeyDigest {
    let digest = this.#keys.get(key);
    if (digest === undefined) {
      digest = { days: new Map(), state: undefined };
      this.#keys.set(key, digest);
    }
    return digest;
  }
}
