import type { Kafka } from 'kafkajs';
import { ConnectorError } from '../contracts/errors.ts';
import type { ShardsStatus } from '../contracts/shards.ts';
import type { Sink } from '../contracts/sink.ts';
import type { ConnectorConfig } from '../config/schema.ts';
import type { KafkaSecurity } from '../kafka/security.ts';
import { KafkaShardGroup, shardOf } from '../kafka/shard-group.ts';
import { createKafkaSink } from '../kafka/sink-client.ts';
import { checkShardTopics } from '../kafka/topics.ts';
import type { SupervisorDeps } from '../lifecycle/supervisor.ts';
import { ShardedSink } from '../sink/sharded-sink.ts';
import type { Logger } from '../telemetry/logger.ts';
import { forgetTenant, type Metrics } from '../telemetry/metrics.ts';
import { ShardCoordinator, type ShardCoordinatorDeps } from './shard-coordinator.ts';
import type { ReadinessCheck } from './status-server.ts';

/** What the connector does when shards arrive here; given at start, once the stores and the supervisor exist. */
export type ShardTakeOver = Pick<ShardCoordinatorDeps, 'load' | 'reconcileTenants'>;

/**
 * Scale-out (docs/scaling.md): a sink per owned shard, each with its own transactional id; the shard
 * group that hands shards to replicas; the coordinator that orders each hand-over. Built only when
 * the connector runs on Kafka: tests that replace the sink run one process that owns every tenant.
 */
export interface ScaleOut {
  /** The Sink port over the owned shards' sinks; a shard's sink opens (fences) as it is assigned. */
  readonly sink: Sink;
  /** The shard of a tenant: the partition of its registry record and cursors. */
  readonly shardOf: (tenantId: string) => number;
  /** Whether the tenant's shard is owned here now: only those tenants are polled and shown in /status. */
  owns(tenantId: string): boolean;
  /** Owned, or being taken over: whose state (e.g. sweep digests) is kept while it is read. */
  loading(tenantId: string): boolean;
  /** The supervisor's seam: it runs only owned tenants and forgets the metrics of those it releases. */
  readonly supervision: Pick<SupervisorDeps, 'owns' | 'onRelease'>;
  /**
   * Settles a poller's fatal error that belongs to the shard hand-over; true when it did (the
   * connector goes on). Fenced: another replica has the shard, so it is given up here. A commit
   * without an answer: the shard's sink has already asked for the shard to be taken over again.
   */
  absorbs(tenantId: string, error: ConnectorError): boolean;
  /** Readiness: every shard the group assigned is fenced, its cursors read and its tenants started. */
  readonly readiness: ReadinessCheck;
  /** What /status says about this replica's shards. */
  status(): ShardsStatus;
  /** Fails (config error) when the shard topics' partitions do not match kafka.shards.count. */
  checkTopics(): Promise<void>;
  /** Joins the shard group; resolves once the first assignment was handled (or the deadline passed). */
  start(takeOver: ShardTakeOver, deadlineMs: number): Promise<void>;
  /** Leaves the group: its shards' sinks end their open groups, then the others take the shards. Never throws. */
  stop(): Promise<void>;
}

export interface ScaleOutDeps {
  config: ConnectorConfig;
  kafka: Kafka;
  security: KafkaSecurity;
  metrics: Metrics;
  logger: Logger;
}

export function createScaleOut({ config, kafka, security, metrics, logger }: ScaleOutDeps): ScaleOut {
  const k = config.kafka;
  const c = config.connector;
  const count = k.shards.count;
  const shardOfTenant = (tenantId: string): number => shardOf(tenantId, count);
  const group = new KafkaShardGroup({
    kafka,
    topic: k.topics.registry,
    count,
    groupId: k.shards.groupId ?? `${k.transactionalIdPrefix}-shards`,
    sessionTimeoutMs: k.shards.sessionTimeoutSeconds * 1000,
    rebalanceTimeoutMs: (k.shards.rebalanceTimeoutSeconds ?? k.transactionTimeoutSeconds) * 1000,
    heartbeatIntervalMs: k.shards.heartbeatIntervalSeconds * 1000,
    logger,
  });
  const createShardSink = (shard: number): Sink =>
    createKafkaSink(k.client, { kafka, clientId: k.clientId, brokers: k.brokers, ...security, metrics }, {
      topics: k.topics,
      mode: c.deliveryMode,
      shard,
      transactionalIdPrefix: k.transactionalIdPrefix,
      compression: k.compression,
      maxBatchMessages: c.publishBatchEvents,
      group: { intervalMs: k.groupCommitIntervalMs, maxRecords: k.groupCommitMaxRecords, maxBytes: k.groupCommitMaxBytes },
      transactionTimeoutMs: k.transactionTimeoutSeconds * 1000,
      logger,
      // Re-fencing and re-reading the shard's committed cursors settles whether that group committed.
      onCommitUncertain: () => {
        metrics.shardRebalances.inc({ kind: 'restarted' });
        group.restart(shard);
      },
    });
  const sink = new ShardedSink({ transactional: c.deliveryMode === 'exactly-once', shardOf: shardOfTenant, create: createShardSink });
  // The take-over steps need the stores and the supervisor, built after this; the group calls them only once started.
  let takeOver: ShardTakeOver | undefined;
  const takeOverOf = (): ShardTakeOver => {
    if (takeOver === undefined) throw new Error('the shard group hands over shards only after start');
    return takeOver;
  };
  const coordinator = new ShardCoordinator({
    sink,
    shardOf: shardOfTenant,
    load: (shards) => takeOverOf().load(shards),
    reconcileTenants: () => takeOverOf().reconcileTenants(),
    metrics,
    logger,
  });
  const owns = (tenantId: string): boolean => coordinator.owns(tenantId);

  return {
    sink,
    shardOf: shardOfTenant,
    owns,
    loading: (tenantId) => coordinator.loading(tenantId),
    supervision: { owns, onRelease: (tenantId) => forgetTenant(metrics, tenantId) },
    absorbs(tenantId, error) {
      if (error.code.endsWith('_FENCED')) {
        metrics.shardRebalances.inc({ kind: 'lost' });
        group.lose(shardOfTenant(tenantId));
        return true;
      }
      return error.code === 'SINK_COMMIT_UNCERTAIN';
    },
    readiness: { name: 'shards', check: () => ({ ok: coordinator.settled(), detail: 'the assigned shards are not all taken over yet (fence, cursors)' }) },
    status: () => coordinator.status(count, group.memberId()),
    async checkTopics() {
      const problems = await checkShardTopics(kafka, { registry: k.topics.registry, cursors: k.topics.cursors, publishedIds: sink.transactional ? k.topics.publishedIds : undefined }, count);
      if (problems.length > 0) {
        throw new ConnectorError('SHARD_TOPICS_MISMATCH', `The shard topics do not match kafka.shards.count (see docs/scaling.md, re-sharding): ${problems.join('; ')}`, { stage: 'config', retriable: false });
      }
    },
    async start(steps, deadlineMs) {
      takeOver = steps;
      await group.start(coordinator, deadlineMs);
    },
    async stop() {
      await group.stop().catch((error: unknown) => logger.warn({ err: error }, 'Leaving the shard group failed; the others take over after the session timeout'));
    },
  };
}
