import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsLevel } from '../../../src/kafka/client.ts';

describe('kafkajs log levels', () => {
  it('logs a condition kafkajs retries by itself at debug, never at error', () => {
    // The line of issue 7: one per CONCURRENT_TRANSACTIONS answer, each followed by a retry.
    const response = { message: 'Response AddPartitionsToTxn(key: 24, version: 1)', error: 'The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing', correlationId: 7, size: 40 };
    expect(kafkajsLevel('Connection', logLevel.ERROR, response)).toBe(logLevel.INFO);
    expect(kafkajsLevel('Producer', logLevel.ERROR, { message: 'Failed to send messages: x', retryCount: 1, retryTime: 300 })).toBe(logLevel.INFO);
    expect(kafkajsLevel('Admin', logLevel.WARN, { message: 'Could not create topics', error: 'x', retryCount: 0, retryTime: 250 })).toBe(logLevel.INFO);
  });

  it('keeps other warnings and errors as they are', () => {
    expect(kafkajsLevel('Connection', logLevel.ERROR, { message: 'Connection error: ECONNREFUSED' })).toBe(logLevel.ERROR);
    expect(kafkajsLevel('BrokerPool', logLevel.ERROR, { message: 'Failed to connect to seed broker' })).toBe(logLevel.ERROR);
    expect(kafkajsLevel('Producer', logLevel.WARN, { message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees' })).toBe(logLevel.WARN);
    expect(kafkajsLevel('Connection', logLevel.DEBUG, { message: 'Response Produce' })).toBe(logLevel.DEBUG);
  });
});
