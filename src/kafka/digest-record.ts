import { z } from 'zod';
import type { DeliveredBlob, SweepState } from '../contracts/delivered-log.ts';
import { contentIdHash } from '../source/sweep/delivered-digests.ts';

/**
 * Records on the sweep-digests topic (issue 12), keyed like cursors (`<tenant>|<content type>`), so
 * one tenant's records stay in one partition and in order:
 * - delivered: `{"v":1,"delivered":[["<16 hex digits>",<contentCreated, epoch s>],…]}` — blobs done
 *   (delivered or dead-lettered); in exactly-once mode written inside the blob's transaction.
 * - sweep state: `{"v":1,"sweep":{"fromMs":…,"completedAtMs":…}}`.
 * The topic deletes by time (8 days), so nothing has to be tombstoned.
 */
export interface DigestRecord {
  key: string;
  value: string;
}

const valueSchema = z.union([
  z.object({ v: z.literal(1), delivered: z.array(z.tuple([z.string().regex(/^[0-9a-f]{16}$/), z.number().int()])) }),
  z.object({ v: z.literal(1), sweep: z.object({ fromMs: z.number().int(), completedAtMs: z.number().int().optional(), startedAtMs: z.number().int().optional() }) }),
]);

export function encodeDelivered(key: string, blobs: readonly DeliveredBlob[]): DigestRecord {
  const delivered = blobs.map((b) => [contentIdHash(b.contentId).toString(16).padStart(16, '0'), Math.floor(b.createdMs / 1000)]);
  return { key, value: JSON.stringify({ v: 1, delivered }) };
}

export function encodeSweepState(key: string, state: SweepState): DigestRecord {
  // JSON.stringify drops the undefined fields.
  const sweep = { fromMs: state.fromMs, completedAtMs: state.completedAtMs, startedAtMs: state.startedAtMs };
  return { key, value: JSON.stringify({ v: 1, sweep }) };
}

export type DecodedDigest =
  | { kind: 'delivered'; key: string; blobs: Array<{ hash: bigint; createdMs: number }> }
  | { kind: 'sweep'; key: string; state: SweepState }
  | { kind: 'invalid'; key: string | null; detail: string };

export function decodeDigestRecord(key: string | null, value: string | null): DecodedDigest {
  if (key === null || value === null) return { kind: 'invalid', key, detail: 'record has no key or no value' };
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (error) {
    return { kind: 'invalid', key, detail: `value is not JSON: ${(error as Error).message}` };
  }
  const parsed = valueSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', key, detail: parsed.error.message };
  const data = parsed.data;
  if ('delivered' in data) return { kind: 'delivered', key, blobs: data.delivered.map(([hex, seconds]) => ({ hash: BigInt(`0x${hex}`), createdMs: seconds * 1000 })) };
  const { fromMs, completedAtMs, startedAtMs } = data.sweep;
  return { kind: 'sweep', key, state: { fromMs, ...(completedAtMs === undefined ? {} : { completedAtMs }), ...(startedAtMs === undefined ? {} : { startedAtMs }) } };
}
