import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { shardOf } from '../../../src/kafka/shard-group.ts';

/** What kafkajs' default partitioner answers for a key over `count` partitions, built afresh each time. */
function partitionOf(key: string, count: number): number {
  const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  return Partitioners.DefaultPartitioner()({ topic: 'registry', partitionMetadata, message: { key, value: null } });
}

describe('shardOf', () => {
  it('is the partition kafkajs sends the registry record to, for each shard count, asked once or again', () => {
    const ids = Array.from({ length: 500 }, (_, i) => `${i.toString(16).padStart(8, '0')}-1111-2222-3333-444455556666`);
    for (const count of [1, 7, 32]) {
      const first = ids.map((id) => shardOf(id, count));
      expect(first).toEqual(ids.map((id) => partitionOf(id, count)));
      // Asked again (the memo answers): the same shards.
      expect(ids.map((id) => shardOf(id, count))).toEqual(first);
    }
    // The counts do not share answers: 32 shards spread these ids over more than 7 values.
    expect(new Set(ids.map((id) => shardOf(id, 32))).size).toBeGreaterThan(7);
  });
});
