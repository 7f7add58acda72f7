import { AssignerProtocol, Partitioners, type Assigner, type Consumer, type Kafka, type PartitionAssigner } from 'kafkajs';
import { ConnectorError } from '../contracts/errors.ts';
import type { ShardChange, ShardListener, ShardOwnership } from '../contracts/shards.ts';
import type { Logger } from '../telemetry/logger.ts';
import { toConnectorError } from './client.ts';
import { stickyAssign } from './sticky-assignment.ts';

export interface KafkaShardGroupOptions {
  kafka: Kafka;
  /** The tenant registry topic: its partitions are the shards. */
  topic: string;
  count: number;
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  logger: Logger;
  now?: () => number;
}

const ASSIGNER_NAME = 'onedrive-connector-sticky-shards';
/** A failed take-over (Kafka away) is tried again after this long. */
const RETRY_MS = 2_000;

/**
 * The tenant's shard: the partition the Kafka client's default partitioner (murmur2, as the Java
 * client) sends its registry record to, so the group's partition assignment and the tenant → shard
 * mapping are the same thing.
 */
export function shardOf(tenantId: string, count: number): number {
  let shards = shardsByCount.get(count);
  if (shards === undefined) shardsByCount.set(count, (shards = shardMemo(count)));
  return shards(tenantId);
}

/** Shard lookups are hot (every poll, unit and sweep of every tenant): one partitioner per count, and each tenant's answer kept. */
const shardsByCount = new Map<number, (tenantId: string) => number>();
/** A pod holds at most ~10,000 tenants; past this the memo starts again rather than grow without end. */
const MEMO_LIMIT = 100_000;

function shardMemo(count: number): (tenantId: string) => number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({ partitionId, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  const known = new Map<string, number>();
  return (tenantId) => {
    let shard = known.get(tenantId);
    if (shard === undefined) {
      shard = partitioner({ topic: 'registry', partitionMetadata, message: { key: tenantId, value: null } });
      if (known.size >= MEMO_LIMIT) known.clear();
      known.set(tenantId, shard);
    }
    return shard;
  };
}

/**
 * Shard ownership through a Kafka consumer group over the registry topic (reference/kafka.md §4):
 * the group protocol decides who owns which partition; nothing here elects or votes. kafkajs only
 * rebalances eagerly and has no revoke callback: a member learns its new assignment when it has
 * rejoined (GROUP_JOIN), and its old one is gone from then on. So revoking happens after the new
 * owner may already have started — the new owner's fence (InitProducerId) makes that safe: whatever
 * the old owner still tries to commit for the shard fails. The assignment is sticky (only shards
 * that must move do), and a replica that has not reached the coordinator for a session timeout
 * gives its shards up by itself: the group has given them to others by then.
 */
export class KafkaShardGroup implements ShardOwnership {
  readonly count: number;
  readonly #o: KafkaShardGroupOptions;
  readonly #log: Logger;
  readonly #now: () => number;
  #consumer: Consumer | undefined;
  #member: string | undefined;
  /** What the group last gave this replica. */
  #target: number[] = [];
  readonly #lost = new Set<number>();
  /** Lost on purpose, to be taken over again once given up (restart). */
  readonly #restarting = new Set<number>();
  /** What onChange reported as owned. */
  #owned = new Set<number>();
  #listener: ShardListener | undefined;
  #running: Promise<void> | undefined;
  #dirty = false;
  #lastContactMs = 0;
  #watchdog: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  #stopped = false;
  #firstHandled: (() => void) | undefined;

  constructor(options: KafkaShardGroupOptions) {
    this.#o = options;
    this.count = options.count;
    this.#now = options.now ?? Date.now;
    this.#log = options.logger.child({ component: 'shard-group', groupId: options.groupId });
  }

  shardOf(tenantId: string): number {
    return shardOf(tenantId, this.count);
  }

  memberId(): string | undefined {
    return this.#member;
  }

  async start(listener: ShardListener, deadlineMs: number): Promise<void> {
    if (this.#consumer !== undefined) return;
    this.#listener = listener;
    const firstHandled = new Promise<void>((resolve) => (this.#firstHandled = resolve));
    const consumer = this.#o.kafka.consumer({
      groupId: this.#o.groupId,
      sessionTimeout: this.#o.sessionTimeoutMs,
      rebalanceTimeout: this.#o.rebalanceTimeoutMs,
      heartbeatInterval: this.#o.heartbeatIntervalMs,
      // Heartbeats ride on the fetch loop: an idle fetch must come back well within the heartbeat interval.
      maxWaitTimeInMs: Math.min(1_000, this.#o.heartbeatIntervalMs),
      allowAutoTopicCreation: false,
      partitionAssigners: [this.#assigner()],
      // Kafka away must never end ownership handling for good: the consumer restarts itself.
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      // A join completing while this replica stops must not hand it shards again.
      if (this.#stopped) return;
      this.#member = payload.memberId;
      this.#lastContactMs = this.#now();
      const shards = [...(payload.memberAssignment[this.#o.topic] ?? [])].sort((a, b) => a - b);
      this.#log.info({ memberId: payload.memberId, leader: payload.isLeader, shards }, 'Joined the shard group');
      this.#target = shards;
      this.#lost.clear();
      this.#restarting.clear();
      this.#schedule();
    });
    consumer.on(consumer.events.HEARTBEAT, () => (this.#lastContactMs = this.#now()));
    consumer.on(consumer.events.REBALANCING, () => this.#log.info({ memberId: this.#member }, 'The shard group is rebalancing'));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.#log.warn({ err: payload.error.message, restart: payload.restart }, 'The shard group consumer crashed');
      if (!payload.restart && !this.#stopped) this.#giveUpAll('its consumer stopped');
    });
    this.#consumer = consumer;
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.#o.topic] });
      // Messages are not needed here (the registry reads the topic): the group is only for ownership.
      // They are resolved all the same, so the fetch moves on and idles at maxWaitTimeInMs instead of
      // fetching the same batch again at once; nothing is committed (a new owner starts at the end).
      await consumer.run({ autoCommit: false, eachBatch: () => Promise.resolve() });
    } catch (error) {
      await consumer.disconnect().catch(() => undefined);
      this.#consumer = undefined;
      throw toConnectorError(error, 'checkpoint', `join the shard group ${this.#o.groupId}`);
    }
    this.#watchdog = setInterval(() => this.#checkContact(), Math.min(1_000, this.#o.heartbeatIntervalMs));
    this.#watchdog.unref();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new ConnectorError('SHARDS_NOT_ASSIGNED', `No shard assignment from group ${this.#o.groupId} within ${deadlineMs} ms`, { stage: 'checkpoint', retriable: true })),
        deadlineMs,
      );
    });
    try {
      await Promise.race([firstHandled, deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  lose(shard: number): void {
    if (!this.#owned.has(shard) || this.#lost.has(shard)) return;
    this.#log.warn({ shard }, 'Gave up a shard whose producer was fenced: another replica owns it now');
    this.#lost.add(shard);
    this.#schedule();
  }

  restart(shard: number): void {
    if (!this.#owned.has(shard) || this.#lost.has(shard)) return;
    this.#log.warn({ shard }, 'Taking a shard over again: its last commit has an unknown outcome');
    this.#restarting.add(shard);
    this.#lost.add(shard);
    this.#schedule();
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#watchdog);
    clearTimeout(this.#retry);
    // Revoke first (pollers drain, open groups end), then leave: the others take over a clean shard.
    this.#target = [];
    this.#schedule();
    await this.#running;
    await this.#consumer?.disconnect().catch(() => undefined);
    this.#consumer = undefined;
  }

  #checkContact(): void {
    if (this.#owned.size === 0 || this.#target.length === 0) return;
    const silentMs = this.#now() - this.#lastContactMs;
    if (silentMs > this.#o.sessionTimeoutMs) this.#giveUpAll(`no heartbeat reached the coordinator for ${silentMs} ms (session timeout ${this.#o.sessionTimeoutMs} ms)`);
  }

  #giveUpAll(why: string): void {
    this.#log.warn({ shards: [...this.#owned], why }, 'Gave up every shard: the group has given them to other replicas by now');
    this.#target = [];
    this.#schedule();
  }

  /** Handles the latest target once the change in progress is done; changes never overlap. */
  #schedule(): void {
    this.#listener?.retain(new Set(this.#target.filter((s) => !this.#lost.has(s))));
    this.#dirty = true;
    if (this.#running !== undefined) return;
    this.#running = (async () => {
      while (this.#dirty) {
        this.#dirty = false;
        await this.#handle();
      }
    })().finally(() => (this.#running = undefined));
  }

  async #handle(): Promise<void> {
    const listener = this.#listener;
    if (listener === undefined) return;
    const desired = new Set(this.#stopped ? [] : this.#target.filter((s) => !this.#lost.has(s)));
    const change: ShardChange = {
      revoked: [...this.#owned].filter((s) => !desired.has(s)).sort((a, b) => a - b),
      assigned: [...desired].filter((s) => !this.#owned.has(s)).sort((a, b) => a - b),
    };
    if (change.assigned.length > 0 || change.revoked.length > 0) {
      try {
        this.#owned = new Set(await listener.change(change));
      } catch (error) {
        this.#log.error({ err: error }, 'Changing the owned shards failed');
      }
    }
    // A restarted shard, once given up, is wanted again: the loop in #schedule takes it over.
    for (const shard of this.#restarting) {
      if (this.#owned.has(shard)) continue;
      this.#restarting.delete(shard);
      this.#lost.delete(shard);
      if (!this.#stopped) this.#dirty = true;
    }
    const complete = [...desired].every((s) => this.#owned.has(s)) && [...this.#owned].every((s) => desired.has(s));
    if (complete) {
      this.#firstHandled?.();
      this.#firstHandled = undefined;
    } else if (!this.#stopped) {
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => this.#schedule(), RETRY_MS);
      this.#retry.unref();
    }
  }

  /** Members send the shards they own with their join; the leader keeps them where balance allows. */
  #assigner(): PartitionAssigner {
    return ({ cluster }) => {
      const assigner: Assigner = {
        name: ASSIGNER_NAME,
        version: 1,
        assign: ({ members, topics }) => {
          const shards = topics.flatMap((topic) => cluster.findTopicPartitionMetadata(topic).map((m) => m.partitionId));
          const claims = members.map(({ memberId, memberMetadata }) => ({ memberId, owned: decodeOwned(memberMetadata) }));
          const assignment = stickyAssign(claims, shards);
          return Promise.resolve(
            members.map(({ memberId }) => ({
              memberId,
              memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: 1, assignment: { [this.#o.topic]: assignment.get(memberId) ?? [] }, userData: Buffer.alloc(0) }),
            })),
          );
        },
        protocol: ({ topics }) => ({
          name: ASSIGNER_NAME,
          metadata: AssignerProtocol.MemberMetadata.encode({ version: 1, topics, userData: Buffer.from(JSON.stringify({ owned: this.#target })) }),
        }),
      };
      return assigner;
    };
  }
}

function decodeOwned(metadata: Buffer): number[] {
  try {
    const decoded = AssignerProtocol.MemberMetadata.decode(metadata);
    const parsed = JSON.parse(decoded?.userData.toString('utf8') ?? '{}') as { owned?: unknown };
    return Array.isArray(parsed.owned) ? parsed.owned.filter((s): s is number => Number.isInteger(s)) : [];
  } catch {
    // A member that sent nothing readable simply keeps nothing.
    return [];
  }
}
