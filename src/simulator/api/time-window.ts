/**
 * Listing-window rules of /subscriptions/content and /subscriptions/notifications, as pure functions
 * (o365-api.md §1.7, §2.2 AF20055).
 */
export const DAY_MS = 24 * 3_600_000;
export const RETENTION_MS = 7 * DAY_MS;

/**
 * Parses the documented formats `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM`, `YYYY-MM-DDTHH:MM:SS` (UTC) [DOC],
 * plus what clients are observed to send successfully: a trailing `Z` and fractional seconds [OBS].
 * Returns undefined for anything else.
 */
export function parseApiTime(text: string): number | undefined {
  const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|z|\+00:00)?$/.exec(text.trim());
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '0'] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.padEnd(3, '0').slice(0, 3)));
  const check = new Date(ms);
  if (Number.isNaN(ms) || check.getUTCDate() !== Number(d) || check.getUTCHours() !== Number(h)) return undefined;
  return ms;
}

export type WindowResult =
  | { ok: true; startMs: number; endMs: number; explicit: boolean }
  | { ok: false; code: 'AF20055' | 'AF20002'; message: string };

export const AF20055_MESSAGE =
  'Start time and end time must both be specified (or both omitted) and must be less than or equal to 24 hours apart, with the start time prior to end time and start time no more than 7 days in the past.';

/**
 * Validates a window. Both bounds or neither; start < end; end − start ≤ 24 h; start ≥ now − 7 days
 * (minus `slackMs`, since one client observed the service accepting ~1 h more, o365-api.md §1.7 [OBS]).
 * Omitted bounds mean the last 24 hours [DOC REF]. The end may lie in the future [OBS BEATS].
 */
export function resolveWindow(startText: string | undefined, endText: string | undefined, nowMs: number, slackMs = 0): WindowResult {
  if (startText === undefined && endText === undefined) {
    return { ok: true, startMs: nowMs - DAY_MS, endMs: nowMs, explicit: false };
  }
  if (startText === undefined || endText === undefined) return { ok: false, code: 'AF20055', message: AF20055_MESSAGE };
  const startMs = parseApiTime(startText);
  const endMs = parseApiTime(endText);
  if (startMs === undefined) return { ok: false, code: 'AF20002', message: 'Invalid parameter type: startTime. Expected type: datetime.' };
  if (endMs === undefined) return { ok: false, code: 'AF20002', message: 'Invalid parameter type: endTime. Expected type: datetime.' };
  if (startMs >= endMs || endMs - startMs > DAY_MS || startMs < nowMs - RETENTION_MS - slackMs) {
    return { ok: false, code: 'AF20055', message: AF20055_MESSAGE };
  }
  return { ok: true, startMs, endMs, explicit: true };
}

/** `2015-05-23T17:35:00.000Z`: how listings serialise contentCreated/contentExpiration (§1.7). */
export function formatListingTime(ms: number): string {
  return new Date(ms).toISOString();
}
