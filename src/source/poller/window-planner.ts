/**
 * Plans the next listing window. Pure: the inputs are the listing progress and the time.
 * Rules (o365-api.md §1.7, AF20055): both bounds, start < end, at most 24 h apart, start no more than
 * 7 days back. Windows re-cover `overlap` before the listing progress so blobs that were listed late
 * are still seen (the done set dedupes the rest), and stop `endLag` before now.
 */
export const RETENTION_MS = 7 * 24 * 3600_000;
/** Margin inside the 7-day limit so a request in flight does not cross it (the service counts from its own clock). */
export const RETENTION_SAFETY_MS = 10 * 60_000;

export interface WindowPlanInput {
  /** The listing is complete up to here. */
  listedUpToMs: number;
  /** Never list before this (the first run's bound, Cursor.notBefore). */
  floorMs?: number;
  nowMs: number;
  overlapMs: number;
  endLagMs: number;
  maxWindowMs: number;
}

export interface PlannedWindow {
  startMs: number;
  endMs: number;
  /**
   * Set when the listing progress is older than the API keeps: content in [listedUpToMs, startMs) can
   * no longer be listed. Reported as data loss, never silently.
   */
  expiredGap?: { fromMs: number; toMs: number };
}

const floorToSecond = (ms: number): number => Math.floor(ms / 1000) * 1000;

export function planWindow(input: WindowPlanInput): PlannedWindow | undefined {
  const earliest = Math.ceil((input.nowMs - RETENTION_MS + RETENTION_SAFETY_MS) / 1000) * 1000;
  const latestEnd = floorToSecond(input.nowMs - input.endLagMs);
  let start = floorToSecond(input.listedUpToMs - input.overlapMs);
  // The overlap re-lists what an earlier run listed; before the first run's bound nothing was.
  if (input.floorMs !== undefined && start < input.floorMs) start = floorToSecond(input.floorMs);
  let expiredGap: PlannedWindow['expiredGap'];
  if (start < earliest) {
    if (input.listedUpToMs < earliest) expiredGap = { fromMs: input.listedUpToMs, toMs: earliest };
    start = earliest;
  }
  const end = Math.min(start + floorToSecond(input.maxWindowMs), latestEnd);
  // Nothing new can be listed: the window would not reach past what is already listed.
  if (end <= start || end <= input.listedUpToMs) return undefined;
  return expiredGap === undefined ? { startMs: start, endMs: end } : { startMs: start, endMs: end, expiredGap };
}
