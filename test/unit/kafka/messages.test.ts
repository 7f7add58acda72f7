import { describe, expect, it } from 'vitest';
import { capUtf8, chunk, deadLetterMessage, eventMessage } from '../../../src/kafka/messages.ts';
import { encodeCursorRecord, decodeCursorRecord } from '../../../src/kafka/cursor-record.ts';
import { sampleDeadLetter, sampleEvent } from '../../contract/sink.contract.ts';

describe('Kafka message formats', () => {
  it('keys events by id and labels them', () => {
    const message = eventMessage('tenant-a', sampleEvent('e1'));
    expect(message.key).toBe('e1');
    expect(message.headers).toEqual({ 'tenant-id': 'tenant-a', 'schema-version': '1', 'content-type': 'application/json' });
    expect(JSON.parse(message.value)).toEqual(sampleEvent('e1'));
  });

  it('keys dead letters by tenant, content and record, and stamps them', () => {
    const at = new Date('2026-11-20T12:00:00.000Z');
    const message = deadLetterMessage({ ...sampleDeadLetter('r1'), contentId: null }, at);
    expect(message.key).toBe('tenant-a::r1');
    expect(message.headers).toMatchObject({ 'tenant-id': 'tenant-a', reason: 'missing-field' });
    expect(JSON.parse(message.value)).toMatchObject({ at: '2026-11-20T12:00:00.000Z', payloadTruncated: false, recordId: 'r1' });
  });

  it('keeps a null payload null', () => {
    const value = JSON.parse(deadLetterMessage({ ...sampleDeadLetter('r1'), payload: null }, new Date(0)).value);
    expect(value).toMatchObject({ payload: null, payloadTruncated: false });
  });

  it('caps UTF-8 at a character boundary', () => {
    expect(capUtf8('abc', 3)).toEqual({ text: 'abc', truncated: false });
    expect(capUtf8('aé', 2)).toEqual({ text: 'a', truncated: true });
    expect(capUtf8('a😀b', 4)).toEqual({ text: 'a', truncated: true });
    expect(capUtf8('a😀b', 5)).toEqual({ text: 'a😀', truncated: true });
  });

  it('chunks without losing items', () => {
    expect(chunk([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunk([], 2)).toEqual([]);
  });
});

describe('cursor records', () => {
  const key = { tenantId: 'tenant-a', contentType: 'Audit.SharePoint' };
  const cursor = { lowerBound: '2026-11-20T10:00:00.000Z', done: { b1: '2026-11-20T10:00:01.000Z' }, updatedAt: 'now' };

  it('round-trips', () => {
    const record = encodeCursorRecord(key, cursor);
    expect(record.key).toBe('tenant-a|Audit.SharePoint');
    expect(decodeCursorRecord(Buffer.from(record.key), Buffer.from(record.value))).toEqual({ kind: 'cursor', key: record.key, cursor });
  });

  it('recognises tombstones and refuses malformed values', () => {
    expect(decodeCursorRecord(Buffer.from('k'), null)).toEqual({ kind: 'tombstone', key: 'k' });
    expect(decodeCursorRecord(Buffer.from('k'), Buffer.from('{'))).toMatchObject({ kind: 'invalid', key: 'k' });
    expect(decodeCursorRecord(Buffer.from('k'), Buffer.from('{"lowerBound":1}'))).toMatchObject({ kind: 'invalid' });
    expect(decodeCursorRecord(null, Buffer.from('{}'))).toMatchObject({ kind: 'invalid', key: null });
  });
});
