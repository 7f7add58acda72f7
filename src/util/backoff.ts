/**
 * Exponential backoff with full jitter (the AWS architecture blog's variant): spreads retries of many
 * tenants so they do not hit Microsoft in lock-step. `random` is injectable for deterministic tests.
 */
export function backoffMs(attempt: number, options: { baseMs?: number; maxMs: number; random?: () => number }): number {
  const base = options.baseMs ?? 1000;
  const ceiling = Math.min(options.maxMs, base * 2 ** Math.max(0, attempt - 1));
  return Math.round((options.random ?? Math.random)() * ceiling);
}

/** The wait before retry `attempt`: the server's Retry-After when it gave one, else jittered backoff. */
export function retryDelayMs(
  attempt: number,
  retryAfterSeconds: number | undefined,
  options: { baseMs?: number; maxMs: number; random?: () => number },
): number {
  if (retryAfterSeconds !== undefined) return retryAfterSeconds * 1000;
  return backoffMs(attempt, options);
}
