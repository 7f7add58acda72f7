import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { isFencedError, toConnectorError } from '../../../src/kafka/client.ts';

// Shaped like kafkajs' errors (the classes are not ESM named exports, and only name/type/code/retriable/cause are read).
function kafkaJsError(name: string, message: string, fields: { retriable?: boolean; type?: string; code?: number; cause?: unknown } = {}): Error {
  const error = new Error(message, fields.cause === undefined ? undefined : { cause: fields.cause }) as Error & Record<string, unknown>;
  error.name = name;
  Object.assign(error, { retriable: fields.retriable ?? true, type: fields.type, code: fields.code });
  return error;
}

describe('kafkajs error mapping', () => {
  it('maps a fenced producer, however wrapped, to SINK_FENCED (not retriable)', () => {
    const epoch = kafkaJsError('KafkaJSProtocolError', 'old epoch', { type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false });
    const wrapped = kafkaJsError('KafkaJSNonRetriableError', 'old epoch', { retriable: false, cause: epoch });
    const mapped = toConnectorError(wrapped, 'sink', 'commit');
    expect(mapped).toBeInstanceOf(ConnectorError);
    expect(mapped).toMatchObject({ code: 'SINK_FENCED', retriable: false, stage: 'sink' });
    expect(isFencedError(mapped)).toBe(true);
    const fenced90 = kafkaJsError('KafkaJSProtocolError', 'unknown', { type: 'KAFKA_UNKNOWN_ERROR', code: 90, retriable: false });
    expect(toConnectorError(fenced90, 'checkpoint', 'save')).toMatchObject({ code: 'CHECKPOINT_FENCED' });
  });

  it('treats a broker that is away as retriable, even after kafkajs gave up', () => {
    const refused = kafkaJsError('KafkaJSConnectionError', 'connect ECONNREFUSED');
    const exhausted = kafkaJsError('KafkaJSNumberOfRetriesExceeded', 'connect ECONNREFUSED', { retriable: false, cause: refused });
    expect(toConnectorError(exhausted, 'sink', 'send')).toMatchObject({ code: 'SINK_UNAVAILABLE', retriable: true });
  });

  it('keeps kafkajs\' verdict for other protocol errors', () => {
    const tooLarge = kafkaJsError('KafkaJSProtocolError', 'too large', { type: 'MESSAGE_TOO_LARGE', code: 10, retriable: false });
    expect(toConnectorError(tooLarge, 'sink', 'send')).toMatchObject({ code: 'SINK_REJECTED', retriable: false });
    const notLeader = kafkaJsError('KafkaJSProtocolError', 'not leader', { type: 'NOT_LEADER_FOR_PARTITION', code: 6, retriable: true });
    expect(toConnectorError(notLeader, 'sink', 'send')).toMatchObject({ code: 'SINK_REJECTED', retriable: true });
  });

  it('never wraps programming errors', () => {
    const bug = new TypeError('x is undefined');
    expect(toConnectorError(bug, 'sink', 'send')).toBe(bug);
    const existing = new ConnectorError('SINK_FENCED', 'f', { stage: 'sink', retriable: false });
    expect(toConnectorError(existing, 'sink', 'send')).toBe(existing);
  });
});
