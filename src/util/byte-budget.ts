/**
 * A shared budget of bytes held in memory. Callers never wait on it: when it is used up they take
 * another path (spool to disk), so it bounds memory without being able to deadlock.
 */
export class ByteBudget {
  readonly capacity: number;
  #used = 0;
  readonly #onChange: ((used: number) => void) | undefined;

  constructor(capacity: number, onChange?: (used: number) => void) {
    this.capacity = capacity;
    this.#onChange = onChange;
  }

  get used(): number {
    return this.#used;
  }

  tryAcquire(bytes: number): boolean {
    if (this.#used + bytes > this.capacity) return false;
    this.#used += bytes;
    this.#onChange?.(this.#used);
    return true;
  }

  release(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    this.#onChange?.(this.#used);
  }
}
