import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { brokerList, defaultBrokers, integer, port, positiveInteger } from '../../../src/cli/option-parsers.ts';

describe('numeric and broker options are validated, not turned into NaN', () => {
  it.each(['abc', '', ' ', '1.5', '-1', 'NaN', '1e400'])('integer refuses %j', (value) => {
    expect(() => integer(value)).toThrow(InvalidArgumentError);
  });

  it('accepts what it should', () => {
    expect(integer('0')).toBe(0);
    expect(positiveInteger('3')).toBe(3);
    expect(() => positiveInteger('0')).toThrow(InvalidArgumentError);
    expect(port('65535')).toBe(65_535);
    expect(() => port('65536')).toThrow(InvalidArgumentError);
    expect(brokerList('127.0.0.1:19092, kafka:9092')).toEqual(['127.0.0.1:19092', 'kafka:9092']);
    expect(() => brokerList('localhost')).toThrow(InvalidArgumentError);
    expect(() => brokerList('a:0')).toThrow(InvalidArgumentError);
  });

  it('derives the default broker from KAFKA_BROKERS, else KAFKA_PORT', () => {
    expect(defaultBrokers({})).toBe('127.0.0.1:19092');
    expect(defaultBrokers({ KAFKA_PORT: '19220' })).toBe('127.0.0.1:19220');
    expect(defaultBrokers({ KAFKA_PORT: '19220', KAFKA_BROKERS: 'kafka:9092' })).toBe('kafka:9092');
    expect(defaultBrokers({ KAFKA_PORT: '19220', KAFKA_BROKERS: '' })).toBe('127.0.0.1:19220');
  });
});
