import { logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkaLogLevel } from '../../../src/kafka/client.ts';

describe('kafkaLogLevel (kafkajs lines in our log)', () => {
  it('keeps a shard-group rebalance out of the warnings: with scale-out it is routine', () => {
    expect(kafkaLogLevel(logLevel.WARN, 'Runner', { error: 'The group is rebalancing, so a rejoin is needed' })).toBe('debug');
  });

  it('still warns about other consumer trouble, and errors stay errors unless kafkajs retries them', () => {
    expect(kafkaLogLevel(logLevel.WARN, 'Runner', { error: 'something else' })).toBe('warn');
    expect(kafkaLogLevel(logLevel.ERROR, 'Runner', { error: 'The coordinator is not aware of this member' })).toBe('error');
    expect(kafkaLogLevel(logLevel.ERROR, 'Producer', { retryCount: 1 })).toBe('debug');
  });
});
