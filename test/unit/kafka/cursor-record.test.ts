import { describe, expect, it } from 'vitest';
import { decodeCursorRecord, encodeCursorRecord } from '../../../src/kafka/cursor-record.ts';

const key = { tenantId: 'tenant-a', contentType: 'Audit.SharePoint' };

describe('cursor record codec', () => {
  it('round-trips the position inside a sliced blob and the first-run floor', () => {
    const cursor = {
      lowerBound: '2026-11-20T10:00:00.000Z',
      done: { b1: '2026-11-20T10:00:00.000Z' },
      positions: { huge: 41_000 },
      notBefore: '2026-11-19T10:00:00.000Z',
      updatedAt: '2026-11-20T11:00:00.000Z',
    };
    const record = encodeCursorRecord(key, cursor);
    expect(decodeCursorRecord(Buffer.from(record.key), Buffer.from(record.value))).toEqual({ kind: 'cursor', key: 'tenant-a|Audit.SharePoint', cursor });
  });

  it('reads cursors written before positions existed', () => {
    const old = { lowerBound: '2026-11-20T10:00:00.000Z', done: {}, updatedAt: '2026-11-20T11:00:00.000Z' };
    const decoded = decodeCursorRecord(Buffer.from('k'), Buffer.from(JSON.stringify(old)));
    expect(decoded).toEqual({ kind: 'cursor', key: 'k', cursor: old });
  });
});
