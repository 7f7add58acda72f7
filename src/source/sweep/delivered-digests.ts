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

const TAIL_LIMIT = 256;

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
    if (this.#tail.length >= TAIL_LIMIT) this.#compact();
  }

  get size(): number {
    return this.#sorted.length + this.#tail.length;
  }

  #compact(): void {
    const merged = new BigUint64Array(this.#sorted.length + this.#tail.length);
    merged.set(this.#sorted);
    merged.set(this.#tail, this.#sorted.length);
    merged.sort();
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

  /** Forgets the days wholly before `oldestMs` (the API no longer lists them). */
  prune(oldestMs: number): void {
    const oldestDay = Math.floor(oldestMs / DAY_MS) - 1;
    for (const digest of this.#keys.values()) for (const day of digest.days.keys()) if (day < oldestDay) digest.days.delete(day);
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
