import { ManualClock } from '../../src/util/manual-clock.ts';

export { ManualClock };

/** Moves the clock and lets the continuations it woke run before the test looks at the result. */
export async function advance(clock: ManualClock, ms: number): Promise<void> {
  clock.advance(ms);
  for (let i = 0; i < 10; i += 1) await Promise.resolve();
}

/** Polls a condition until it holds or the deadline passes: no fixed sleeps in tests. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${options.what ?? 'a condition'}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 10));
  }
}
