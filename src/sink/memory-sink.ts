import type { Cursor, CursorKey } from '../contracts/checkpoint.ts';
import { ConnectorError } from '../contracts/errors.ts';
import type { FileEvent } from '../contracts/file-event.ts';
import type { DeadLetter, DeliveryUnit, Sink } from '../contracts/sink.ts';

export type MemorySinkMode = 'at-least-once' | 'exactly-once';
type FailingOperation = 'send' | 'deadLetter' | 'commit';

/**
 * What a read_committed consumer would see: shared by every MemorySink built on it, so tests can
 * restart a sink, or run two of the same shard, against one "cluster".
 */
export class MemorySinkLog {
  readonly events: { tenantId: string; event: FileEvent }[] = [];
  readonly deadLetters: DeadLetter[] = [];
  readonly checkpoints: { key: CursorKey; cursor: Cursor }[] = [];
  private readonly epochs = new Map<number, number>();

  /** Like InitProducerId: a new epoch for the shard, which fences every older one. */
  fence(shard: number): number {
    const epoch = (this.epochs.get(shard) ?? 0) + 1;
    this.epochs.set(shard, epoch);
    return epoch;
  }

  isCurrent(shard: number, epoch: number): boolean {
    return this.epochs.get(shard) === epoch;
  }
}

export interface MemorySinkOptions {
  mode: MemorySinkMode;
  shard?: number;
  log?: MemorySinkLog;
}

/**
 * An in-memory Sink for pipeline unit tests, with the semantics of KafkaSink: at-least-once
 * records land as soon as send resolves; exactly-once records are buffered until commit, dropped
 * on abort, units are serialised, and a newer sink of the same shard fences this one.
 */
export class MemorySink implements Sink {
  readonly transactional: boolean;
  readonly log: MemorySinkLog;
  readonly shard: number;
  private readonly failures = new Map<FailingOperation, Error>();
  private epoch = 0;
  private state: 'new' | 'started' | 'stopped' = 'new';
  private tail: Promise<void> = Promise.resolve();
  unitsOpened = 0;

  constructor(options: MemorySinkOptions) {
    this.transactional = options.mode === 'exactly-once';
    this.shard = options.shard ?? 0;
    this.log = options.log ?? new MemorySinkLog();
  }

  /** The next call of `operation` (in any unit) rejects with `error`, once. */
  failNext(operation: FailingOperation, error: Error): void {
    this.failures.set(operation, error);
  }

  start(): Promise<void> {
    if (this.state === 'new') {
      if (this.transactional) this.epoch = this.log.fence(this.shard);
      this.state = 'started';
    }
    return Promise.resolve();
  }

  async begin(tenantId: string): Promise<DeliveryUnit> {
    if (this.state === 'new') throw new Error('MemorySink.begin() called before start()');
    if (this.state === 'stopped') {
      throw new ConnectorError('SINK_STOPPED', 'The memory sink is stopped', { stage: 'sink', retriable: false });
    }
    this.unitsOpened += 1;
    if (!this.transactional) return new MemoryUnit(this, tenantId, false, () => undefined);
    const previous = this.tail;
    let release = (): void => undefined;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      this.checkEpoch();
    } catch (error) {
      release();
      throw error;
    }
    return new MemoryUnit(this, tenantId, true, release);
  }

  stop(): Promise<void> {
    this.state = 'stopped';
    return Promise.resolve();
  }

  /** @internal for MemoryUnit */
  takeFailure(operation: FailingOperation): void {
    const error = this.failures.get(operation);
    if (error === undefined) return;
    this.failures.delete(operation);
    throw error;
  }

  /** @internal for MemoryUnit */
  checkEpoch(): void {
    if (this.transactional && !this.log.isCurrent(this.shard, this.epoch)) {
      throw new ConnectorError('SINK_FENCED', `Producer of shard ${this.shard} fenced by a newer one`, {
        stage: 'sink',
        retriable: false,
      });
    }
  }
}

class MemoryUnit implements DeliveryUnit {
  private readonly sink: MemorySink;
  private readonly tenantId: string;
  private readonly buffered: boolean;
  private readonly release: () => void;
  private readonly events: FileEvent[] = [];
  private readonly deadLetters: DeadLetter[] = [];
  private finished = false;

  constructor(sink: MemorySink, tenantId: string, buffered: boolean, release: () => void) {
    this.sink = sink;
    this.tenantId = tenantId;
    this.buffered = buffered;
    this.release = release;
  }

  send(events: readonly FileEvent[]): Promise<void> {
    return this.run('send', () => {
      const copies = events.map((event) => structuredClone(event));
      if (this.buffered) this.events.push(...copies);
      else this.sink.log.events.push(...copies.map((event) => ({ tenantId: this.tenantId, event })));
    });
  }

  deadLetter(items: readonly DeadLetter[]): Promise<void> {
    return this.run('deadLetter', () => {
      const copies = items.map((item) => structuredClone(item));
      if (this.buffered) this.deadLetters.push(...copies);
      else this.sink.log.deadLetters.push(...copies);
    });
  }

  async commit(checkpoint?: { key: CursorKey; cursor: Cursor }): Promise<void> {
    if (this.buffered && checkpoint === undefined) {
      throw new Error('An exactly-once commit needs the checkpoint to write with it');
    }
    await this.run('commit', () => {
      this.finished = true;
      if (!this.buffered) return;
      const log = this.sink.log;
      log.events.push(...this.events.map((event) => ({ tenantId: this.tenantId, event })));
      log.deadLetters.push(...this.deadLetters);
      if (checkpoint !== undefined) log.checkpoints.push(structuredClone(checkpoint));
    }).finally(() => {
      if (this.finished) this.release();
    });
  }

  abort(): Promise<void> {
    if (!this.finished) {
      this.finished = true;
      this.release();
    }
    return Promise.resolve();
  }

  private run(operation: FailingOperation, effect: () => void): Promise<void> {
    try {
      if (this.finished) throw new Error('The delivery unit is already committed or aborted');
      this.sink.takeFailure(operation);
      this.sink.checkEpoch();
      effect();
      return Promise.resolve();
    } catch (error) {
      // Like a failed Kafka commit, a failed commit ends the unit: nothing of it becomes visible.
      if (operation === 'commit' && this.buffered) this.finished = true;
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
