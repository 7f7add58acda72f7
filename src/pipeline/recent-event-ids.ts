/**
 * Event ids published recently, per tenant: Microsoft repeats records within and across blobs
 * (o365-api.md §2.6), and a repeat is filtered with reason `duplicate` instead of published again.
 * Bounded: the oldest ids are forgotten first once `capacity` is reached.
 */
export class RecentEventIds {
  readonly #capacity: number;
  readonly #ids = new Set<string>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  has(id: string): boolean {
    return this.#ids.has(id);
  }

  /** Adds ids that Kafka has acknowledged. */
  addAll(ids: Iterable<string>): void {
    for (const id of ids) {
      this.#ids.delete(id);
      this.#ids.add(id);
    }
    if (this.#ids.size > this.#capacity) {
      let excess = this.#ids.size - this.#capacity;
      for (const id of this.#ids) {
        if (excess-- <= 0) break;
        this.#ids.delete(id);
      }
    }
  }

  get size(): number {
    return this.#ids.size;
  }
}
