import type { ShardChange, ShardListener, ShardsStatus } from '../contracts/shards.ts';
import type { ShardedSink } from '../sink/sharded-sink.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';

export interface ShardCoordinatorDeps {
  sink: ShardedSink;
  shardOf: (tenantId: string) => number;
  /** Reads what newly owned shards need, after their producers were fenced: cursors, published ids, digests. */
  load: (shards: readonly number[]) => Promise<void>;
  /** Starts the owned tenants' pollers and stops the others' (the supervisor's rebalance). */
  reconcileTenants: () => Promise<void>;
  metrics: Metrics;
  logger: Logger;
}

/**
 * The order of a shard hand-over on this replica (docs/scaling.md). Revoke: the shard stops counting
 * as owned at once (its tenants leave /status), its pollers stop and drain, then its sink stops — the
 * group being written commits or aborts — and the shard is released. Assign: fence (start the
 * shard's transactional producer), then read its cursors, then start its tenants. A shard whose
 * fence or load fails is not owned; the shard group tries it again.
 */
export class ShardCoordinator implements ShardListener {
  readonly #d: ShardCoordinatorDeps;
  readonly #log: Logger;
  readonly #owned = new Set<number>();
  #assigning: number[] = [];
  #revoking: number[] = [];
  #loadedOnce = false;
  /** Shards the group took back while they were being taken over here: not owned when that ends. */
  readonly #retracted = new Set<number>();

  constructor(deps: ShardCoordinatorDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'shard-coordinator' });
  }

  owns(tenantId: string): boolean {
    return this.#owned.has(this.#d.shardOf(tenantId));
  }

  /** Owned shards, plus those being loaded (so their records are kept while they are read). */
  loading(tenantId: string): boolean {
    const shard = this.#d.shardOf(tenantId);
    return this.#owned.has(shard) || this.#assigning.includes(shard);
  }

  /** True once an assignment was handled and no change is under way: readiness. */
  settled(): boolean {
    return this.#loadedOnce && this.#assigning.length === 0 && this.#revoking.length === 0;
  }

  status(count: number, member: string | undefined): ShardsStatus {
    return { count, member, owned: [...this.#owned].sort((a, b) => a - b), changing: { assigning: [...this.#assigning], revoking: [...this.#revoking] } };
  }

  retain(assigned: ReadonlySet<number>): void {
    let dropped = false;
    for (const shard of [...this.#owned, ...this.#assigning]) {
      if (assigned.has(shard)) continue;
      this.#retracted.add(shard);
      if (this.#owned.delete(shard)) {
        this.#d.metrics.shardOwner.remove({ shard: String(shard) });
        dropped = true;
      }
    }
    if (!dropped) return;
    this.#d.metrics.shardsOwned.set(this.#owned.size);
    // Its pollers stop now; the sink closes when the change reaches the shard (#revoke).
    this.#d.reconcileTenants().catch((error: unknown) => this.#log.warn({ err: error }, 'Stopping the tenants of shards given up failed'));
  }

  async change(change: ShardChange): Promise<readonly number[]> {
    if (change.revoked.length > 0) await this.#revoke(change.revoked);
    if (change.assigned.length > 0) await this.#assign(change.assigned);
    this.#loadedOnce = true;
    this.#d.metrics.shardsOwned.set(this.#owned.size);
    return [...this.#owned];
  }

  async #revoke(shards: readonly number[]): Promise<void> {
    const startedAt = Date.now();
    this.#revoking = [...shards];
    for (const shard of shards) {
      this.#owned.delete(shard);
      this.#d.metrics.shardOwner.remove({ shard: String(shard) });
      this.#d.metrics.shardRebalances.inc({ kind: 'revoked' });
    }
    this.#d.metrics.shardsOwned.set(this.#owned.size);
    try {
      await this.#d.reconcileTenants();
    } finally {
      await Promise.allSettled(shards.map((shard) => this.#d.sink.closeShard(shard)));
      this.#revoking = [];
    }
    this.#log.info({ shards, durationMs: Date.now() - startedAt }, 'Released shards');
  }

  async #assign(shards: readonly number[]): Promise<void> {
    const startedAt = Date.now();
    this.#assigning = [...shards];
    for (const shard of shards) this.#retracted.delete(shard);
    try {
      const opened = await Promise.allSettled(shards.map((shard) => this.#d.sink.openShard(shard)));
      let fenced = shards.filter((_, i) => opened[i]?.status === 'fulfilled');
      opened.forEach((result, i) => {
        if (result.status === 'rejected') this.#log.warn({ shard: shards[i], err: result.reason as unknown }, 'Could not take over a shard (its producer did not start); trying again');
      });
      this.#assigning = fenced;
      if (fenced.length > 0) {
        try {
          await this.#d.load(fenced);
        } catch (error) {
          this.#log.warn({ shards: fenced, err: error }, 'Could not read the state of newly assigned shards; trying again');
          await Promise.allSettled(fenced.map((shard) => this.#d.sink.closeShard(shard)));
          fenced = [];
        }
      }
      const taken = fenced.filter((shard) => !this.#retracted.has(shard));
      await Promise.allSettled(fenced.filter((shard) => this.#retracted.has(shard)).map((shard) => this.#d.sink.closeShard(shard)));
      for (const shard of taken) {
        this.#owned.add(shard);
        this.#d.metrics.shardOwner.set({ shard: String(shard) }, 1);
        this.#d.metrics.shardRebalances.inc({ kind: 'assigned' });
      }
      this.#d.metrics.shardsOwned.set(this.#owned.size);
    } finally {
      this.#assigning = [];
    }
    await this.#d.reconcileTenants();
    this.#log.info({ shards, owned: [...this.#owned].sort((a, b) => a - b), durationMs: Date.now() - startedAt }, 'Took over shards: fenced, state read, tenants started');
  }
}
