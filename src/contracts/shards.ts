/**
 * Scale-out (docs/scaling.md): tenants are split into a fixed number of shards, the partitions of the
 * tenant registry topic; a consumer group over that topic gives each replica some of them. Only the
 * owner of a shard polls its tenants, and each shard publishes through its own transactional id, so
 * a replica that lost a shard and does not know it yet is fenced: it can commit nothing.
 */

/** One change of this replica's shards, handled before the next one is (revoked first, then assigned). */
export interface ShardChange {
  /** Shards this replica gets: fence their producers, read their cursors, then start their tenants. */
  assigned: readonly number[];
  /** Shards this replica gives up: stop their tenants and end their open group, then release them. */
  revoked: readonly number[];
}

export interface ShardListener {
  /** Handles one change (see ShardOwnership.start); resolves with the shards owned afterwards. */
  change(change: ShardChange): Promise<readonly number[]>;
  /**
   * Called at once (synchronously) whenever the group's assignment shrinks, even while a change is
   * being handled: a shard outside `assigned` stops counting as owned now, before its hand-over
   * is worked through, so no two replicas claim it while a slow take-over here finishes.
   */
  retain(assigned: ReadonlySet<number>): void;
}

export interface ShardOwnership {
  /** The number of shards; fixed for a deployment (changing it is re-sharding). */
  readonly count: number;
  /** The shard a tenant belongs to: the partition its registry record goes to. */
  shardOf(tenantId: string): number;
  /**
   * Joins the group and resolves once the first assignment was handled (or `deadlineMs` passed).
   * `onChange` is called for every change of this replica's shards, one at a time (while it runs the
   * next change waits; the latest one wins); it resolves with the shards owned afterwards — a shard
   * that could not be taken over (Kafka away) is tried again.
   */
  start(listener: ShardListener, deadlineMs: number): Promise<void>;
  /**
   * Gives a shard up locally before the group says so (its producer was fenced: another replica owns
   * it now); it comes back only with a later assignment.
   */
  lose(shard: number): void;
  /**
   * Gives a shard up and takes it over again at once (if the group still assigns it): fence, re-read
   * its committed cursors, restart its tenants. For a shard whose last commit has an unknown outcome.
   */
  restart(shard: number): void;
  /** This replica's id in the group (undefined before the first join). */
  memberId(): string | undefined;
  /** Leaves the group (the others take the shards at once). Revokes every shard first. Safe twice. */
  stop(): Promise<void>;
}

/** What /status says about this replica's shards. */
export interface ShardsStatus {
  count: number;
  /** This replica's member id in the shard group. */
  member: string | undefined;
  /** Shards fenced, with their cursors read and tenants started. */
  owned: number[];
  /** Shards being taken over or given up right now. */
  changing: { assigning: number[]; revoking: number[] };
}
