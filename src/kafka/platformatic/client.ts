import type { ConnectionOptions } from 'node:tls';
import type { Producer, ProducerOptions, SASLOptions } from '@platformatic/kafka';
import type { SASLOptions as KafkaJsSaslOptions } from 'kafkajs';
import { ConnectorError, isConnectorError, type Stage } from '../../contracts/errors.ts';
import type { Logger } from '../../telemetry/logger.ts';

/** Strings in, strings out: the sink holds serialized JSON and string headers. */
export type StringProducer = Producer<string, string, string, string>;

export interface PlatformaticProducerOptions {
  clientId: string;
  brokers: readonly string[];
  /** As for kafkajs (src/kafka/security.ts): `true` is TLS with the system trust store. */
  ssl?: boolean | ConnectionOptions | undefined;
  sasl?: KafkaJsSaslOptions | undefined;
  /** Exactly-once: the shard's stable transactional id; absent for the idempotent (at-least-once) producer. */
  transactionalId?: string | undefined;
  /** The coordinator aborts a transaction open longer than this. */
  transactionTimeoutMs?: number | undefined;
  logger: Logger;
}

/**
 * First retry after 20 ms, doubling up to 30 s. The usual retriable answer inside a transaction is
 * CONCURRENT_TRANSACTIONS (the coordinator is still writing the previous commit's markers, a few
 * ms): the client's default 1 s fixed delay would cost a second per group.
 */
export function retryDelayMs(attempt: number): number {
  return Math.min(30_000, 20 * 2 ** Math.max(0, attempt - 1));
}

/**
 * Attempts after the first: about 20 s of back-off (20 ms … 10 s), then the request fails and the
 * sink rejects the group, so its blobs are retried by the pipeline — what kafkajs does after its
 * retries (~20 s against a broker that went away). The client's own default for an idempotent
 * producer is unlimited: a write would then block for the whole of an outage, and a stop during
 * one would wait for the shutdown deadline. A new attempt re-sends with the same sequence numbers,
 * so the broker drops repeats within one producer session.
 */
export const PRODUCER_RETRIES = 10;

/**
 * The one place a @platformatic/kafka producer is built. Key partitioning is Java's (murmur2 & 0x7fffffff,
 * what kafkajs' DefaultPartitioner does): the client's own default (`>>> 0`) sends some keys elsewhere,
 * and the cursors topic is compacted — one key on two partitions would leave two latest cursors.
 */
export async function createPlatformaticProducer(options: PlatformaticProducerOptions): Promise<StringProducer> {
  // Loaded on first use: the library costs ~40 MiB of RSS on import (measured), which a connector
  // configured for kafkajs should not pay.
  const { Producer, compatibilityPartitioner, stringSerializers } = await import('@platformatic/kafka');
  const logger = options.logger.child({ component: 'platformatic-kafka' });
  const config: ProducerOptions<string, string, string, string> = {
    clientId: options.clientId,
    bootstrapBrokers: [...options.brokers],
    serializers: stringSerializers,
    idempotent: true,
    acks: -1,
    autocreateTopics: false,
    partitioner: compatibilityPartitioner,
    retries: PRODUCER_RETRIES,
    retryDelay: (_client, _operation, attempt) => retryDelayMs(attempt),
    ...(options.transactionalId === undefined ? {} : { transactionalId: options.transactionalId }),
    // InitProducerId carries `timeout` as the transaction timeout; requests use requestTimeout.
    ...(options.transactionTimeoutMs === undefined ? {} : { timeout: options.transactionTimeoutMs, requestTimeout: 30_000 }),
    ...tlsOptions(options.ssl),
    ...(options.sasl === undefined ? {} : { sasl: saslOptions(options.sasl) }),
  };
  const producer = new Producer(config);
  // Conditions the client retries by itself are not errors of ours: debug. If it gives up, the error
  // reaches the sink and is logged there once, with what it means.
  producer.on('client:performWithRetry:retry', (operation: string, attempt: number, _retries: number, delayMs: number) => {
    logger.debug({ operation, attempt, delayMs }, 'Kafka client retries a request');
  });
  return producer;
}

function tlsOptions(ssl: PlatformaticProducerOptions['ssl']): Pick<ProducerOptions<string, string, string, string>, 'tls'> {
  if (ssl === undefined || ssl === false) return {};
  return { tls: ssl === true ? {} : ssl };
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;

/** Our configuration produces kafkajs' shape (src/kafka/security.ts); the mechanisms we allow map one to one. */
function saslOptions(sasl: KafkaJsSaslOptions): SASLOptions {
  const mechanism = SASL_MECHANISMS[sasl.mechanism as keyof typeof SASL_MECHANISMS] as SASLOptions['mechanism'] | undefined;
  if (mechanism === undefined || !('username' in sasl)) throw new Error(`SASL mechanism ${sasl.mechanism} is not supported with @platformatic/kafka here`);
  return { mechanism, username: sasl.username, password: sasl.password };
}

interface PlatformaticLikeError {
  name: string;
  message: string;
  code?: unknown;
  apiId?: unknown;
  canRetry?: unknown;
  errors?: unknown;
  cause?: unknown;
}

function isPlatformaticError(error: unknown): error is PlatformaticLikeError {
  return error instanceof Error && typeof (error as PlatformaticLikeError).code === 'string' && String((error as PlatformaticLikeError).code).startsWith('PLT_KFK_');
}

/** Every error in the tree: MultipleErrors nest in `errors` (one per retry or per broker), causes in `cause`. */
function errorTree(error: PlatformaticLikeError): PlatformaticLikeError[] {
  const out: PlatformaticLikeError[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && out.length < 64) {
    const current = queue.shift();
    if (!(current instanceof Error) || out.includes(current)) continue;
    const e = current as PlatformaticLikeError;
    out.push(e);
    if (Array.isArray(e.errors)) queue.push(...(e.errors as unknown[]));
    if (e.cause !== undefined) queue.push(e.cause);
  }
  return out;
}

// The client marks only INVALID_PRODUCER_EPOCH (47) as `producerFenced`; brokers answer newer
// request versions with PRODUCER_FENCED (90). Both mean another producer with our transactional id
// took over, or the coordinator expired our transaction.
const FENCED_IDS = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
const UNAVAILABLE_CODES = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT']);

export function isPlatformaticFencedError(error: unknown): boolean {
  if (isConnectorError(error)) return error.code.endsWith('_FENCED');
  if (!isPlatformaticError(error)) return false;
  return errorTree(error).some((e) => typeof e.apiId === 'string' && FENCED_IDS.has(e.apiId));
}

/**
 * Maps a @platformatic/kafka error to a ConnectorError once, where it enters, with the codes
 * src/kafka/client.ts gives kafkajs errors: the pipeline cannot tell the clients apart.
 */
export function toConnectorErrorFromPlatformatic(error: unknown, stage: Extract<Stage, 'sink' | 'checkpoint'>, action: string): Error {
  if (isConnectorError(error)) return error;
  if (!isPlatformaticError(error)) return error instanceof Error ? error : new Error(String(error));
  const prefix = stage.toUpperCase();
  const tree = errorTree(error);
  const leaf = tree[tree.length - 1] ?? error;
  if (isPlatformaticFencedError(error)) {
    return new ConnectorError(`${prefix}_FENCED`, `Producer fenced while trying to ${action}: another instance owns this shard, or the transaction timed out`, {
      stage,
      retriable: false,
      cause: error,
    });
  }
  const protocol = tree.find((e) => typeof e.apiId === 'string');
  if (protocol !== undefined) {
    return new ConnectorError(`${prefix}_REJECTED`, `Kafka refused to ${action}: ${String(protocol.apiId)} (${protocol.message})`, {
      stage,
      retriable: protocol.canRetry === true,
      cause: error,
    });
  }
  if (tree.some((e) => typeof e.code === 'string' && UNAVAILABLE_CODES.has(e.code))) {
    return new ConnectorError(`${prefix}_UNAVAILABLE`, `Kafka unavailable while trying to ${action}: ${leaf.message}`, { stage, retriable: true, cause: error });
  }
  return new ConnectorError(`${prefix}_KAFKA_ERROR`, `Kafka client failed to ${action}: ${leaf.message}`, {
    stage,
    retriable: !tree.some((e) => e.code === 'PLT_KFK_USER' || e.canRetry === false),
    cause: error,
  });
}
