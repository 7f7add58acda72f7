import { describe, expect, it } from 'vitest';
import type { KeyedRecord } from '../../../../src/contracts/sink.ts';
import { decodeDigestRecord, encodeDelivered, encodeSweepState } from '../../../../src/kafka/digest-record.ts';
import { contentIdHash, DeliveredDigests } from '../../../../src/source/sweep/delivered-digests.ts';
import { MemoryDigestBackend } from '../../../../src/source/sweep/memory-digest-backend.ts';
import { RecordDeliveredLog } from '../../../../src/source/sweep/record-delivered-log.ts';
import { silentLogger } from '../../../../src/telemetry/logger.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const H = 3_600_000;
const KEY = { tenantId: 't1', contentType: 'Audit.SharePoint' };
const OTHER = { tenantId: 't2', contentType: 'Audit.SharePoint' };

const blobAt = (i: number, createdMs: number) => ({ contentId: `0000${i}$0000${i}$abc${i}spo$def$04`, createdMs });

describe('digest records (issue 12)', () => {
  it('round-trips delivered blobs and sweep state, and refuses what it cannot read', () => {
    const blobs = [blobAt(1, NOW - H), blobAt(2, NOW - 50 * H)];
    const decoded = decodeDigestRecord('t1|Audit.SharePoint', encodeDelivered('t1|Audit.SharePoint', blobs).value);
    expect(decoded).toEqual({
      kind: 'delivered',
      key: 't1|Audit.SharePoint',
      blobs: blobs.map((b) => ({ hash: contentIdHash(b.contentId), createdMs: Math.floor(b.createdMs / 1000) * 1000 })),
    });
    const state = { fromMs: NOW - 100 * H, completedAtMs: NOW, startedAtMs: NOW - 60_000 };
    expect(decodeDigestRecord('k', encodeSweepState('k', state).value)).toEqual({ kind: 'sweep', key: 'k', state });
    expect(decodeDigestRecord('k', encodeSweepState('k', { fromMs: 5 }).value)).toEqual({ kind: 'sweep', key: 'k', state: { fromMs: 5 } });
    expect(decodeDigestRecord('k', 'not json').kind).toBe('invalid');
    expect(decodeDigestRecord('k', '{"v":2}').kind).toBe('invalid');
    expect(decodeDigestRecord(null, '{}').kind).toBe('invalid');
  });

  it('costs about 8 bytes per blob on the wire in hashes, independent of the contentId length', () => {
    const blobs = Array.from({ length: 2000 }, (_, i) => blobAt(i, NOW - (i % 160) * H));
    const record = encodeDelivered('t1|Audit.SharePoint', blobs);
    // 16 hex digits plus the seconds: ~32 bytes of JSON per blob; an O365 contentId alone is ~90.
    expect(record.value.length / blobs.length).toBeLessThan(35);
  });
});

describe('DeliveredDigests', () => {
  it('finds every blob added, per key, across the day buckets, and nothing else', () => {
    const digests = new DeliveredDigests();
    const added = Array.from({ length: 3000 }, (_, i) => blobAt(i, NOW - (i % 170) * H));
    for (const b of added) digests.add('a', contentIdHash(b.contentId), b.createdMs);
    for (const b of added) expect(digests.has('a', contentIdHash(b.contentId), b.createdMs)).toBe(true);
    // Listed with a contentCreated a second off (rounded differently): still found.
    expect(digests.has('a', contentIdHash(added[5]?.contentId ?? ''), (added[5]?.createdMs ?? 0) + 1000)).toBe(true);
    for (let i = 3000; i < 3500; i += 1) expect(digests.has('a', contentIdHash(blobAt(i, NOW).contentId), NOW)).toBe(false);
    expect(digests.has('b', contentIdHash(added[0]?.contentId ?? ''), added[0]?.createdMs ?? 0)).toBe(false);
    expect(digests.stats().blobs).toBe(3000);
    digests.prune(NOW - 24 * H);
    expect(digests.stats().blobs).toBeLessThan(2000);
    expect(digests.has('a', contentIdHash(added[1]?.contentId ?? ''), added[1]?.createdMs ?? 0)).toBe(true);
    expect(digests.has('a', contentIdHash(added[160]?.contentId ?? ''), added[160]?.createdMs ?? 0)).toBe(false);
  });
});

describe('RecordDeliveredLog over a memory backend', () => {
  it('restores delivered blobs and sweep state after a restart, for its own keys only', async () => {
    const backend = new MemoryDigestBackend();
    const first = new RecordDeliveredLog(backend, { now: () => NOW, logger: silentLogger });
    await first.start();
    first.delivered(KEY, blobAt(1, NOW - 30 * H), false);
    first.delivered(KEY, blobAt(2, NOW - 100 * H), false);
    first.delivered(OTHER, blobAt(3, NOW - 2 * H), false);
    await first.saveSweepState(KEY, { fromMs: NOW - 120 * H, completedAtMs: NOW });
    await first.stop();

    const second = new RecordDeliveredLog(new MemoryDigestBackend({ records: backend.records }), { now: () => NOW + H, logger: silentLogger });
    await second.start();
    const view = await second.open(KEY);
    expect(view.has(blobAt(1, NOW - 30 * H))).toBe(true);
    expect(view.has(blobAt(2, NOW - 100 * H))).toBe(true);
    expect(view.has(blobAt(3, NOW - 2 * H))).toBe(false);
    expect(second.sweepState(KEY)).toEqual({ fromMs: NOW - 120 * H, completedAtMs: NOW });
    expect(second.sweepState(OTHER)).toBeUndefined();
  });

  it('in exactly-once mode writes nothing itself: the unit records carry the blob, and only committed ones count after a restart', async () => {
    const committed: KeyedRecord[] = [];
    const backend = new MemoryDigestBackend({ committed: () => committed });
    const log = new RecordDeliveredLog(backend, { now: () => NOW, logger: silentLogger });
    await log.start();
    const kept = blobAt(1, NOW - 30 * H);
    const aborted = blobAt(2, NOW - 31 * H);
    committed.push(...log.unitRecords(KEY, kept));
    log.unitRecords(KEY, aborted); // its transaction aborted: never committed
    log.delivered(KEY, kept, true);
    await log.stop();
    expect(backend.writes).toBe(0);

    const restarted = new RecordDeliveredLog(new MemoryDigestBackend({ records: backend.records, committed: () => committed }), { now: () => NOW, logger: silentLogger });
    await restarted.start();
    const view = await restarted.open(KEY);
    expect(view.has(kept)).toBe(true);
    expect(view.has(aborted)).toBe(false);
  });
});
