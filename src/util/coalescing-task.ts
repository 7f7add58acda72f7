/**
 * Runs a task on request, never twice at once: requests made while it runs fold into one more run.
 * Used for cursor saves, which only ever need the latest state written.
 */
export class CoalescingTask {
  readonly #task: () => Promise<void>;
  readonly #onError: (error: unknown) => void;
  #running: Promise<void> | undefined;
  #again = false;

  constructor(task: () => Promise<void>, onError: (error: unknown) => void) {
    this.#task = task;
    this.#onError = onError;
  }

  request(): void {
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.#loop().finally(() => {
      this.#running = undefined;
    });
  }

  /** Resolves once every request made so far has been served (or has failed and been reported). */
  async flush(): Promise<void> {
    while (this.#running !== undefined) await this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.#task();
      } catch (error) {
        this.#onError(error);
      }
    } while (this.#again);
  }
}
