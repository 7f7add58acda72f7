import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { NO_TOPICS } from '../../../src/kafka/kafkajs-metadata-scope.ts';

interface Encoder {
  writeNullableArray(array: unknown[], type?: string): Encoder;
  buffer: Buffer;
}

const require = createRequire(import.meta.url);
const EncoderClass = require('kafkajs/src/protocol/encoder.js') as new () => Encoder;

describe('kafkajs metadata scope fix (src/kafka/kafkajs-metadata-scope.ts)', () => {
  it('encodes the no-topics list as an empty array, any other empty list as null (every topic), as kafkajs does', () => {
    expect(new EncoderClass().writeNullableArray(NO_TOPICS, 'string').buffer.readInt32BE(0)).toBe(0);
    expect(new EncoderClass().writeNullableArray([], 'string').buffer.readInt32BE(0)).toBe(-1);
    const two = new EncoderClass().writeNullableArray(['a', 'b'], 'string').buffer;
    expect(two.readInt32BE(0)).toBe(2);
    expect(Object.isFrozen(NO_TOPICS)).toBe(true);
  });
});
