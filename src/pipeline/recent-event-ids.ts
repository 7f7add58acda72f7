/**
 * Event ids published recently, per tenant: Microsoft repeats records within and across blobs
 * (o365-api.md §2.6), and a repeat is filtered with reason `duplicate` instead of published again.
 * Bounded: the oldest ids are forgotten first once `capacity` is reached.
 */
export class RecentEventIds {
  readonly #capacity: number;
  // Both made on first use: an idle tenant (of 10,000 in a pod) publishes nothing and needs neither.
  #idsSet: Set<string> | undefined;
  /** Ids held by units not durable yet, with how many hold each (group commit runs blobs concurrently). */
  #heldMap: Map<string, number> | undefined;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get #ids(): Set<string> {
    return (this.#idsSet ??= new Set());
  }

  get #held(): Map<string, number> {
    return (this.#heldMap ??= new Map());
  }

  /** True when the id is published, or about to be by a unit not committed yet. */
  has(id: string): boolean {
    return (this.#idsSet?.has(id) ?? false) || (this.#heldMap?.has(id) ?? false);
  }

  /**
   * A unit is about to publish the id: a concurrent blob of the same tenant (same group) counts it as
   * a duplicate instead of publishing it a second time. Released when the unit is durable or gave up.
   */
  hold(id: string): void {
    this.#held.set(id, (this.#held.get(id) ?? 0) + 1);
  }

  release(ids: Iterable<string>): void {
    for (const id of ids) {
      const count = this.#held.get(id) ?? 0;
      if (count <= 1) this.#held.delete(id);
      else this.#held.set(id, count - 1);
    }
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
    return this.#idsSet?.size ?? 0;
  }
}
