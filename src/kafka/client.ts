import type { ConnectionOptions } from 'node:tls';
import { Kafka, logLevel, type LogEntry, type logCreator, type Producer, type SASLOptions, type Transaction } from 'kafkajs';
import { ConnectorError, isConnectorError, type Stage } from '../contracts/errors.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface KafkaClientOptions {
  clientId: string;
  brokers: readonly string[];
  /** `true`: TLS with the system trust store; an object: TLS with its CA, client certificate and key. */
  ssl?: boolean | ConnectionOptions | undefined;
  sasl?: SASLOptions | undefined;
  /** Produce and commit latency and aborts of every producer made from this client. */
  metrics?: Pick<Metrics, 'kafkaProduceDuration' | 'kafkaCommitDuration' | 'kafkaTransactionAborts'> | undefined;
  logger: Logger;
}

/** The one place a kafkajs client is built, so every component logs, retries and is measured the same way. */
export function createKafka(options: KafkaClientOptions): Kafka {
  const logger = options.logger.child({ component: 'kafkajs' });
  const kafka = new Kafka({
    clientId: options.clientId,
    brokers: [...options.brokers],
    ssl: options.ssl ?? false,
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
    // kafkajs INFO is one line per connect and group join: useful when debugging, noise otherwise.
    logLevel: logger.isLevelEnabled('trace')
      ? logLevel.DEBUG
      : logger.isLevelEnabled('debug')
        ? logLevel.INFO
        : logLevel.WARN,
    logCreator: pinoLogCreator(logger),
  });
  const metrics = options.metrics;
  if (metrics !== undefined) {
    // Measured here rather than in the sink, so every producer (sink, cursor store) is timed alike.
    const create = kafka.producer.bind(kafka);
    kafka.producer = (config) => instrumentProducer(create(config), metrics);
  }
  return kafka;
}

export type ProducerMetrics = NonNullable<KafkaClientOptions['metrics']>;

/** Times a call into a produce or commit histogram, labelled by outcome; shared by both clients. */
export function timed<A extends unknown[], R>(call: (...args: A) => Promise<R>, histogram: ProducerMetrics['kafkaProduceDuration']) {
  return async (...args: A): Promise<R> => {
    const end = histogram.startTimer();
    try {
      const result = await call(...args);
      end({ result: 'ok' });
      return result;
    } catch (error) {
      end({ result: 'error' });
      throw error;
    }
  };
}

/** kafkajs producers and transactions are closures over their state, so wrapping copies is safe. */
function instrumentProducer(producer: Producer, metrics: ProducerMetrics): Producer {
  return {
    ...producer,
    send: timed(producer.send.bind(producer), metrics.kafkaProduceDuration),
    sendBatch: timed(producer.sendBatch.bind(producer), metrics.kafkaProduceDuration),
    transaction: async () => instrumentTransaction(await producer.transaction(), metrics),
  };
}

function instrumentTransaction(transaction: Transaction, metrics: ProducerMetrics): Transaction {
  // Fencing opens and aborts an empty transaction on every start: that is no abort worth counting.
  let sent = false;
  const send = timed(transaction.send.bind(transaction), metrics.kafkaProduceDuration);
  const sendBatch = timed(transaction.sendBatch.bind(transaction), metrics.kafkaProduceDuration);
  return {
    ...transaction,
    send: (record) => {
      sent = true;
      return send(record);
    },
    sendBatch: (batch) => {
      sent = true;
      return sendBatch(batch);
    },
    commit: timed(transaction.commit.bind(transaction), metrics.kafkaCommitDuration),
    abort: async () => {
      if (sent) metrics.kafkaTransactionAborts.inc();
      return transaction.abort();
    },
  };
}

/**
 * Producer retries. kafkajs waits 300 ms before its first retry; the usual retriable answer inside a
 * transaction is CONCURRENT_TRANSACTIONS (the coordinator is still writing the previous commit's
 * markers, a few ms), which the Java client retries after 20 ms. Unlimited, as kafkajs requires for an
 * idempotent producer; a broker that stays away still surfaces through the request timeout.
 */
export const PRODUCER_RETRY = { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 20, maxRetryTime: 30_000 };

/**
 * kafkajs logs a failed attempt at ERROR and then retries it itself (the entry carries `retryCount`,
 * or comes from the connection layer, below any retry decision).
 * That is not an error of ours: if the retries give up, the error reaches our code and is logged
 * there once, with what it means. Such entries go to debug.
 */
export function kafkaLogLevel(level: logLevel, namespace: string, fields: Record<string, unknown>): 'error' | 'warn' | 'debug' | 'trace' {
  // The connection layer logs every failed request and response at ERROR before handing the error
  // up to the layer that decides whether to retry (it logs again, with retryCount, if it does).
  const retrying = namespace === 'Connection' || typeof fields.retryCount === 'number' || typeof fields.retryTime === 'number';
  if (level === logLevel.ERROR) return retrying ? 'debug' : 'error';
  // A shard-group rebalance (a replica joined or left) is routine with scale-out; the shard group
  // logs what changed for this replica at info.
  if (level === logLevel.WARN && namespace === 'Runner' && fields.error === 'The group is rebalancing, so a rejoin is needed') return 'debug';
  if (level === logLevel.WARN) return retrying ? 'debug' : 'warn';
  return level === logLevel.INFO ? 'debug' : 'trace';
}

function pinoLogCreator(logger: Logger): logCreator {
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _timestamp, ...fields } = log;
      const line = { namespace, ...fields };
      switch (kafkaLogLevel(level, namespace, fields)) {
        case 'error':
          logger.error(line, message);
          break;
        case 'warn':
          logger.warn(line, message);
          break;
        case 'debug':
          logger.debug(line, message);
          break;
        default:
          logger.trace(line, message);
      }
    };
}

interface KafkaJsLikeError {
  name: string;
  message: string;
  retriable?: boolean;
  type?: string;
  code?: number | string;
  cause?: unknown;
}

// Error codes 47 (INVALID_PRODUCER_EPOCH, what brokers answer old protocol versions) and 90
// (PRODUCER_FENCED, which kafkajs 2.2.4 does not know by name) both mean another producer with our
// transactional id took over, or the broker expired our transaction.
const FENCED_TYPES = new Set(['INVALID_PRODUCER_EPOCH', 'PRODUCER_FENCED']);
const FENCED_CODES = new Set([47, 90]);

const UNAVAILABLE_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
]);

function isKafkaJsError(error: unknown): error is KafkaJsLikeError {
  return error instanceof Error && error.name.startsWith('KafkaJS');
}

/** kafkajs wraps the error that decided the outcome (retries exceeded, non-retriable) in `cause`. */
function causeChain(error: KafkaJsLikeError): KafkaJsLikeError[] {
  const chain: KafkaJsLikeError[] = [error];
  let current: unknown = error.cause;
  while (isKafkaJsError(current) && chain.length < 8 && !chain.includes(current)) {
    chain.push(current);
    current = current.cause;
  }
  return chain;
}

export function isFencedError(error: unknown): boolean {
  if (isConnectorError(error)) return error.code.endsWith('_FENCED');
  if (!isKafkaJsError(error)) return false;
  return causeChain(error).some(
    (e) => (e.type !== undefined && FENCED_TYPES.has(e.type)) || (typeof e.code === 'number' && FENCED_CODES.has(e.code)),
  );
}

/**
 * Maps a kafkajs error to a ConnectorError once, where it enters. `retriable` means "try the unit
 * again later": a broker that is away is retriable even after kafkajs gave up its own retries; a
 * fenced producer or a rejected record is not. Anything that is not a kafkajs error (a programming
 * error) is returned unchanged so it is never retried.
 */
export function toConnectorError(error: unknown, stage: Extract<Stage, 'sink' | 'checkpoint'>, action: string): Error {
  if (isConnectorError(error)) return error;
  if (!isKafkaJsError(error)) return error instanceof Error ? error : new Error(String(error));
  const prefix = stage.toUpperCase();
  const chain = causeChain(error);
  const root = chain[chain.length - 1] ?? error;
  if (isFencedError(error)) {
    return new ConnectorError(
      `${prefix}_FENCED`,
      `Producer fenced while trying to ${action}: another instance owns this shard, or the transaction timed out`,
      { stage, retriable: false, cause: error },
    );
  }
  if (chain.some((e) => UNAVAILABLE_NAMES.has(e.name))) {
    return new ConnectorError(`${prefix}_UNAVAILABLE`, `Kafka unavailable while trying to ${action}: ${root.message}`, {
      stage,
      retriable: true,
      cause: error,
    });
  }
  const protocol = chain.find((e) => e.name === 'KafkaJSProtocolError');
  if (protocol !== undefined) {
    return new ConnectorError(
      `${prefix}_REJECTED`,
      `Kafka refused to ${action}: ${protocol.type ?? 'unknown error'} (${protocol.message})`,
      { stage, retriable: protocol.retriable === true, cause: error },
    );
  }
  return new ConnectorError(`${prefix}_KAFKA_ERROR`, `Kafka client failed to ${action}: ${root.message}`, {
    stage,
    retriable: root.retriable !== false,
    cause: error,
  });
}
