import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 refreshes a client's metadata for the topics it has used so far, and encodes an
 * empty list as a null one, which Kafka reads as "every topic in the cluster". Each producer and
 * consumer has its own metadata, so a producer that has not sent yet — every shard's transactional
 * producer after its fence, every idle shard for good, the digest and registry producers — holds
 * the partition metadata of the whole cluster and fetches it again every 5 minutes. Measured on a
 * test broker with 5,026 partitions: one idle tenant's connector kept 106,195 partition entries
 * (~25 MiB live heap, 318,585 arrays) in 21 such copies; a shared production cluster is larger.
 *
 * The fix: when a client's metadata is refreshed for no topic, ask Kafka for no topic (an empty,
 * not a null, list: Metadata v1+ says so), which still answers the brokers and the controller.
 * Explicit "all topics" calls (admin listTopics, regex subscriptions) do not go through this path
 * and are unchanged. Installed from the CLI entry point and the test setup, like the aborted filter.
 */

interface BrokerPoolPrototype {
  refreshMetadata: (this: BrokerPoolPrototype, topics: string[]) => Promise<void>;
}

interface EncoderPrototype {
  writeNullableArray: (this: EncoderPrototype, array: unknown[], type?: string) => EncoderPrototype;
  writeArray: (this: EncoderPrototype, array: unknown[], type?: string, length?: number) => EncoderPrototype;
}

const INSTALLED = Symbol.for('onedrive-connector.kafkajs-metadata-scope');

/** The one list kafkajs encodes as empty rather than null. Frozen: nothing may add a topic to it. */
export const NO_TOPICS: string[] = Object.freeze([]) as unknown as string[];

export function installMetadataScopeFix(): void {
  const require = createRequire(import.meta.url);
  const BrokerPool = require('kafkajs/src/cluster/brokerPool.js') as { prototype: BrokerPoolPrototype & Record<symbol, unknown> };
  const Encoder = require('kafkajs/src/protocol/encoder.js') as { prototype: EncoderPrototype };
  if (BrokerPool.prototype[INSTALLED] === true) return;
  const refresh = BrokerPool.prototype.refreshMetadata;
  BrokerPool.prototype.refreshMetadata = function refreshMetadata(this: BrokerPoolPrototype, topics: string[]) {
    return refresh.call(this, topics.length === 0 ? NO_TOPICS : topics);
  };
  const writeNullable = Encoder.prototype.writeNullableArray;
  Encoder.prototype.writeNullableArray = function writeNullableArray(this: EncoderPrototype, array: unknown[], type?: string) {
    // kafkajs' shuffle of the topic list returns a list shorter than two as it is: identity survives.
    if (array === NO_TOPICS) return this.writeArray(array, type, 0);
    return writeNullable.call(this, array, type);
  };
  Object.defineProperty(BrokerPool.prototype, INSTALLED, { value: true });
}

installMetadataScopeFix();
