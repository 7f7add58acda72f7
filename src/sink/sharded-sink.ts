import { ConnectorError } from '../contracts/errors.ts';
import type { CursorSource, DeliveryUnit, Sink } from '../contracts/sink.ts';

export interface ShardedSinkOptions {
  transactional: boolean;
  shardOf: (tenantId: string) => number;
  /** A sink for one shard (exactly-once: its own transactional id); started by openShard. */
  create: (shard: number) => Sink;
}

/**
 * One sink per owned shard behind the Sink port: a tenant's units and cursors go to its shard's
 * sink, so each shard's group commits and fencing stay its own. A tenant of a shard not owned here
 * is refused (retriable: its poller is being stopped, or the shard is being taken over).
 */
export class ShardedSink implements Sink {
  readonly transactional: boolean;
  readonly #o: ShardedSinkOptions;
  readonly #sinks = new Map<number, Sink>();

  constructor(options: ShardedSinkOptions) {
    this.#o = options;
    this.transactional = options.transactional;
  }

  /** Shards are opened as they are assigned, not at start. */
  start(): Promise<void> {
    return Promise.resolve();
  }

  /** Starts the shard's sink: exactly-once, that fences every older producer of the shard. */
  async openShard(shard: number): Promise<void> {
    if (this.#sinks.has(shard)) return;
    const sink = this.#o.create(shard);
    try {
      await sink.start();
    } catch (error) {
      await sink.stop().catch(() => undefined);
      throw error;
    }
    this.#sinks.set(shard, sink);
  }

  /** Stops the shard's sink: a group being written ends (commits or aborts), waiting units are dropped. */
  async closeShard(shard: number): Promise<void> {
    const sink = this.#sinks.get(shard);
    this.#sinks.delete(shard);
    await sink?.stop();
  }

  shards(): number[] {
    return [...this.#sinks.keys()].sort((a, b) => a - b);
  }

  begin(tenantId: string): Promise<DeliveryUnit> {
    const sink = this.#sinkOf(tenantId);
    return sink instanceof Error ? Promise.reject(sink) : sink.begin(tenantId);
  }

  saveCursor(source: CursorSource, options?: { promptly?: boolean }): Promise<void> {
    const sink = this.#sinkOf(source.key.tenantId);
    return sink instanceof Error ? Promise.reject(sink) : sink.saveCursor(source, options);
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.shards().map((shard) => this.closeShard(shard)));
  }

  #sinkOf(tenantId: string): Sink | ConnectorError {
    const shard = this.#o.shardOf(tenantId);
    return (
      this.#sinks.get(shard) ??
      new ConnectorError('SINK_SHARD_NOT_OWNED', `Shard ${shard} (tenant ${tenantId}) is not owned by this replica`, { stage: 'sink', retriable: true })
    );
  }
}
