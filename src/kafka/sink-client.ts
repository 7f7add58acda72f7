import type { Kafka } from 'kafkajs';
import type { Sink } from '../contracts/sink.ts';
import type { ProducerMetrics } from './client.ts';
import { PlatformaticSink, type PlatformaticSinkOptions } from './platformatic/sink.ts';
import type { GroupSinkOptions } from './group-commit-sink.ts';
import { KafkaSink } from './sink.ts';

export type KafkaClientName = 'kafkajs' | 'platformatic';

/** What either client needs to reach the cluster: a kafkajs client, or the settings to build a @platformatic/kafka producer. */
export interface SinkConnection {
  kafka: Kafka;
  clientId: string;
  brokers: readonly string[];
  ssl?: PlatformaticSinkOptions['ssl'];
  sasl?: PlatformaticSinkOptions['sasl'];
  metrics?: ProducerMetrics | undefined;
}

/** The Sink on the configured client (kafka.client); both satisfy the same contract (test/contract/sink.contract.ts). */
export function createKafkaSink(client: KafkaClientName, connection: SinkConnection, options: GroupSinkOptions): Sink {
  if (client === 'kafkajs') return new KafkaSink({ ...options, kafka: connection.kafka });
  const { kafka: _kafka, ...rest } = connection;
  return new PlatformaticSink({ ...options, ...rest });
}
