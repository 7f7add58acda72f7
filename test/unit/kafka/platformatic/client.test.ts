import { compatibilityPartitioner, defaultPartitioner, MultipleErrors, NetworkError, ProtocolError, ResponseError } from '@platformatic/kafka';
import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isConnectorError } from '../../../../src/contracts/errors.ts';
import { isPlatformaticFencedError, retryDelayMs, toConnectorErrorFromPlatformatic } from '../../../../src/kafka/platformatic/client.ts';

const PARTITIONS = 6;
const kafkajsPartition = Partitioners.DefaultPartitioner();
const partitionMetadata = Array.from({ length: PARTITIONS }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
const keys = Array.from({ length: 2_000 }, (_, i) => `tenant-${i}|Audit.SharePoint`);

/** What @platformatic/kafka does with a partitioner's answer before producing. */
const modulo = (partition: number): number => partition % PARTITIONS;

describe('@platformatic/kafka producer settings', () => {
  it('partitions keys as kafkajs does with the compatibility partitioner (the compacted cursors topic needs one partition per key)', () => {
    for (const key of keys) {
      const expected = kafkajsPartition({ topic: 'cursors', partitionMetadata, message: { key, value: null } });
      expect(modulo(compatibilityPartitioner({ topic: 'cursors', value: Buffer.alloc(0) }, Buffer.from(key)))).toBe(expected);
    }
  });

  it('would not with the client default: some keys land elsewhere', () => {
    const moved = keys.filter(
      (key) =>
        modulo(defaultPartitioner({ topic: 'cursors', value: Buffer.alloc(0) }, Buffer.from(key))) !==
        kafkajsPartition({ topic: 'cursors', partitionMetadata, message: { key, value: null } }),
    );
    expect(moved.length).toBeGreaterThan(0);
  });

  it('retries after 20 ms, doubling, capped at 30 s', () => {
    expect([1, 2, 3, 20].map(retryDelayMs)).toEqual([20, 40, 80, 30_000]);
  });
});

describe('toConnectorErrorFromPlatformatic', () => {
  const response = (code: number) => new ResponseError(24, 4, { '/': [code, null] }, {});

  it('maps PRODUCER_FENCED and INVALID_PRODUCER_EPOCH, however deeply nested, to SINK_FENCED, not retriable', () => {
    for (const code of [90, 47]) {
      const nested = new MultipleErrors('endTransaction failed 2 times.', [new NetworkError('closed'), response(code)]);
      const mapped = toConnectorErrorFromPlatformatic(nested, 'sink', 'commit a group of units');
      expect(isConnectorError(mapped) && [mapped.code, mapped.retriable]).toEqual(['SINK_FENCED', false]);
      expect(isPlatformaticFencedError(nested)).toBe(true);
    }
  });

  it('maps a refused request to REJECTED with the protocol retriable flag, a network failure to UNAVAILABLE', () => {
    const concurrent = toConnectorErrorFromPlatformatic(response(51), 'sink', 'commit');
    expect(isConnectorError(concurrent) && [concurrent.code, concurrent.retriable]).toEqual(['SINK_REJECTED', true]);
    const tooLarge = toConnectorErrorFromPlatformatic(new ProtocolError('MESSAGE_TOO_LARGE'), 'sink', 'publish');
    expect(isConnectorError(tooLarge) && [tooLarge.code, tooLarge.retriable]).toEqual(['SINK_REJECTED', false]);
    const away = toConnectorErrorFromPlatformatic(new MultipleErrors('produce failed', [new NetworkError('connect ECONNREFUSED')]), 'checkpoint', 'write');
    expect(isConnectorError(away) && [away.code, away.retriable]).toEqual(['CHECKPOINT_UNAVAILABLE', true]);
  });

  it('returns a programming error unchanged, so it is never retried', () => {
    const bug = new TypeError('x is undefined');
    expect(toConnectorErrorFromPlatformatic(bug, 'sink', 'publish')).toBe(bug);
    expect(isPlatformaticFencedError(bug)).toBe(false);
  });
});
