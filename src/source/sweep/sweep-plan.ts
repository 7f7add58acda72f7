import { createHash } from 'node:crypto';
import type { ListingWindow } from '../o365/api-client.ts';
import { RETENTION_MS, RETENTION_SAFETY_MS } from '../poller/window-planner.ts';

/**
 * Pure planning for the reconciliation sweep (issue 12): what range it lists, in which windows, when
 * it runs next and how a late blob is labelled. Times are epoch ms; nothing here reads a clock.
 */

const H = 3_600_000;

/** Bounded label values of late_blobs_total: how long after contentCreated the sweep found the blob. */
export const LATENESS_BUCKETS = ['under-6h', '6h-24h', '1d-3d', '3d-7d'] as const;
export type LatenessBucket = (typeof LATENESS_BUCKETS)[number];

export function latenessBucket(latenessMs: number): LatenessBucket {
  if (latenessMs < 6 * H) return 'under-6h';
  if (latenessMs < 24 * H) return '6h-24h';
  if (latenessMs < 72 * H) return '1d-3d';
  return '3d-7d';
}

export interface SweepRangeInput {
  /** Microsoft's now (the 7-day rule is judged by its clock). */
  nowMs: number;
  /** Below this the digests know nothing (SweepState.fromMs). */
  fromMs: number;
  /** The live poller's listing progress. */
  liveListedUpToMs: number;
  /** The live poller re-lists this much behind its progress: that part is its own, not the sweep's. */
  overlapMs: number;
}

/**
 * [start, end) the sweep lists: from the oldest instant the API still lists (or fromMs) to where the
 * live poller's overlap begins. Undefined when that is empty.
 */
export function sweepRange(input: SweepRangeInput): ListingWindow | undefined {
  const oldest = Math.ceil((input.nowMs - RETENTION_MS + RETENTION_SAFETY_MS) / 1000) * 1000;
  const startMs = Math.max(oldest, Math.ceil(input.fromMs / 1000) * 1000);
  const endMs = Math.floor((input.liveListedUpToMs - input.overlapMs) / 1000) * 1000;
  return endMs > startMs ? { startMs, endMs } : undefined;
}

/** The range in windows of at most maxWindowMs (24 h, AF20055), oldest first: the oldest expire first. */
export function sweepWindows(range: ListingWindow, maxWindowMs: number): ListingWindow[] {
  const step = Math.max(1000, Math.min(maxWindowMs, 24 * H));
  const windows: ListingWindow[] = [];
  for (let start = range.startMs; start < range.endMs; start += step) windows.push({ startMs: start, endMs: Math.min(start + step, range.endMs) });
  return windows;
}

/** A tenant's fixed place in [0, 1), from its id: spreads the tenants' sweeps over the interval. */
export function sweepPhase(tenantId: string): number {
  return createHash('sha256').update(tenantId.toLowerCase()).digest().readUInt32BE(0) / 4294967296;
}

export interface NextSweepInput {
  nowMs: number;
  /** When the last complete sweep ended; undefined when none has. */
  lastCompletedMs: number | undefined;
  /** When the last sweep started; after lastCompletedMs when it was interrupted. */
  lastStartedMs?: number | undefined;
  intervalMs: number;
  phase: number;
  /** Overdue sweeps (after downtime, or at the very first start) start within this, spread by phase. */
  startupSpreadMs: number;
}

/**
 * When the tenant's next sweep starts. In steady state sweeps sit on the tenant's own slot
 * (k·interval + phase·interval), at least half an interval after the last one, so 10,000 tenants do
 * not sweep in the same minute. A sweep that is overdue (none finished, the last one was
 * interrupted, or it ended more than an interval ago: the connector was down) starts soon, spread
 * over startupSpreadMs.
 */
export function nextSweepAtMs(input: NextSweepInput): number {
  const { nowMs, lastCompletedMs, intervalMs, phase } = input;
  const interrupted = input.lastStartedMs !== undefined && (lastCompletedMs === undefined || input.lastStartedMs > lastCompletedMs);
  if (lastCompletedMs === undefined || interrupted || lastCompletedMs + intervalMs <= nowMs) return nowMs + Math.floor(phase * input.startupSpreadMs);
  const earliest = lastCompletedMs + intervalMs / 2;
  const offset = phase * intervalMs;
  const k = Math.ceil((earliest - offset) / intervalMs);
  return Math.max(nowMs, k * intervalMs + offset);
}
