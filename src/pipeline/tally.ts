/** What became of one blob's records: counted locally, applied to metrics only once Kafka has them. */
export class BlobTally {
  readonly published = new Map<string, number>();
  readonly filtered = new Map<string, number>();
  readonly rejected = new Map<string, number>();

  static bump(map: Map<string, number>, key: string, by = 1): void {
    map.set(key, (map.get(key) ?? 0) + by);
  }

  get records(): number {
    return sum(this.published) + sum(this.filtered) + sum(this.rejected);
  }

  summary(): Record<string, number> {
    return { published: sum(this.published), filtered: sum(this.filtered), rejected: sum(this.rejected) };
  }
}

function sum(map: Map<string, number>): number {
  let total = 0;
  for (const value of map.values()) total += value;
  return total;
}
