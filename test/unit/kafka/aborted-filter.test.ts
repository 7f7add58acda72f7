import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { filterAbortedMessages } from '../../../src/kafka/kafkajs-aborted-filter.ts';

const ABORT = Buffer.from([0, 0, 0, 0]);
const record = (offset: number, producerId: string) => ({ offset: String(offset), key: Buffer.from('k'), batchContext: { producerId, inTransaction: true } });
const abortMarker = (offset: number, producerId: string) => ({ offset: String(offset), key: ABORT, batchContext: { producerId, inTransaction: true } });

// Two transactions open at once on one partition, aborted in the other order than they began (as a
// fenced replica's two shards are): the broker lists them in abort order.
const messages = [record(10, 'A'), record(11, 'A'), record(20, 'B'), record(21, 'A'), record(22, 'C'), abortMarker(30, 'B'), abortMarker(31, 'A'), record(32, 'C')];
const abortedTransactions = [
  { producerId: 'B', firstOffset: '20' },
  { producerId: 'A', firstOffset: '10' },
];

describe('the read_committed filter of aborted transactions (kafkajs fix)', () => {
  it('drops every record of both aborted transactions, whatever order the broker lists them in', () => {
    const kept = filterAbortedMessages({ messages, abortedTransactions }).map((m) => `${m.batchContext.producerId}@${m.offset}`);
    expect(kept).toEqual(['C@22', 'B@30', 'A@31', 'C@32']);
  });

  it('is what kafkajs uses once installed (the test setup and the CLI entry point install it first)', () => {
    const require = createRequire(import.meta.url);
    const installed = require('kafkajs/src/consumer/filterAbortedMessages.js') as typeof filterAbortedMessages;
    expect(installed({ messages, abortedTransactions }).map((m) => m.offset)).toEqual(['22', '30', '31', '32']);
  });
});
