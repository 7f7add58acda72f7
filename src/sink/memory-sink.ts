import type { Cursor, CursorKey } from '../contracts/checkpoint.ts';
import { ConnectorError } from '../contracts/errors.ts';
import type { FileEvent } from '../contracts/file-event.ts';
import type { CursorSource, DeadLetter, DeliveryUnit, KeyedRecord, Sink } from '../contracts/sink.ts';
import { GroupCommitter, type CursorWrite, type GroupLimits } from './group-commit.ts';
import { HoldingUnit, type HeldOutput, type UnitEncoding } from './holding-unit.ts';

export type MemorySinkMode = 'at-least-once' | 'exactly-once';
type FailingOperation = 'commit';

/**
 * What a read_committed consumer would see: shared by every MemorySink built on it, so tests can
 * restart a sink, or run two of the same shard, against one "cluster".
 */
export class MemorySinkLog {
  readonly events: { tenantId: string; event: FileEvent }[] = [];
  readonly deadLetters: DeadLetter[] = [];
  readonly keyed: KeyedRecord[] = [];
  readonly checkpoints: { key: CursorKey; cursor: Cursor }[] = [];
  /** Groups written: one transaction (exactly-once) or one batch of requests (at-least-once) each. */
  groups = 0;
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
  /** Group limits; by default a group is written on the next turn of the event loop. */
  group?: Partial<GroupLimits>;
}

type MemoryMessage = { event: FileEvent } | { deadLetter: DeadLetter } | { keyed: KeyedRecord };

const memoryEncoding: UnitEncoding<MemoryMessage> = {
  event: (_tenantId, event) => ({ event: structuredClone(event) }),
  deadLetter: (item) => ({ deadLetter: structuredClone(item) }),
  keyed: (record) => ({ keyed: structuredClone(record) }),
  bytes: () => 1,
};

/**
 * An in-memory Sink for pipeline unit tests, with the semantics of KafkaSink: units are held until
 * they commit and are written in groups; an exactly-once group lands whole or not at all; a newer
 * sink of the same shard fences this one.
 */
export class MemorySink implements Sink {
  readonly transactional: boolean;
  readonly log: MemorySinkLog;
  readonly shard: number;
  private readonly failures = new Map<FailingOperation, Error>();
  private readonly committer: GroupCommitter<HeldOutput<MemoryMessage>>;
  private epoch = 0;
  private state: 'new' | 'started' | 'stopped' = 'new';
  unitsOpened = 0;
  /** Called right after each group landed in the log, with the cursors it wrote (test audits). */
  afterWrite: ((cursors: readonly { key: CursorKey; cursor: Cursor }[]) => void) | undefined;

  constructor(options: MemorySinkOptions) {
    this.transactional = options.mode === 'exactly-once';
    this.shard = options.shard ?? 0;
    this.log = options.log ?? new MemorySinkLog();
    this.committer = new GroupCommitter({
      intervalMs: options.group?.intervalMs ?? 0,
      maxRecords: options.group?.maxRecords ?? 10_000,
      maxBytes: options.group?.maxBytes ?? 1_000_000,
      writesCursors: this.transactional,
      write: (parts, cursors) => this.write(parts, cursors),
    });
  }

  /** The next group write rejects with `error`, once (like a failed Kafka commit). */
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

  begin(tenantId: string): Promise<DeliveryUnit> {
    if (this.state === 'new') return Promise.reject(new Error('MemorySink.begin() called before start()'));
    try {
      this.assertUsable();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.unitsOpened += 1;
    return Promise.resolve(new HoldingUnit(tenantId, memoryEncoding, this.committer));
  }

  saveCursor(source: CursorSource, options: { promptly?: boolean } = {}): Promise<void> {
    if (!this.transactional) return Promise.resolve();
    try {
      this.assertUsable();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.committer.requestCursor(source, options.promptly === true);
  }

  stop(): Promise<void> {
    this.state = 'stopped';
    this.committer.close(new ConnectorError('SINK_STOPPED', 'The memory sink is stopped', { stage: 'sink', retriable: false }));
    return Promise.resolve();
  }

  private write(parts: readonly HeldOutput<MemoryMessage>[], cursors: readonly CursorWrite[]): Promise<void> {
    try {
      const failure = this.failures.get('commit');
      if (failure !== undefined) {
        this.failures.delete('commit');
        throw failure;
      }
      this.checkEpoch();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    const { log } = this;
    log.groups += 1;
    for (const part of parts) {
      for (const message of [...part.events, ...part.deadLetters, ...part.keyed]) {
        if ('event' in message) log.events.push({ tenantId: part.tenantId, event: message.event });
        else if ('deadLetter' in message) log.deadLetters.push(message.deadLetter);
        else log.keyed.push(message.keyed);
      }
    }
    const written = cursors.map(({ source, cursor }) => structuredClone({ key: source.key, cursor }));
    log.checkpoints.push(...written);
    this.afterWrite?.(written);
    return Promise.resolve();
  }

  private assertUsable(): void {
    if (this.state === 'stopped') throw new ConnectorError('SINK_STOPPED', 'The memory sink is stopped', { stage: 'sink', retriable: false });
    this.checkEpoch();
  }

  private checkEpoch(): void {
    if (this.transactional && !this.log.isCurrent(this.shard, this.epoch)) {
      throw new ConnectorError('SINK_FENCED', `Producer of shard ${this.shard} fenced by a newer one`, {
        stage: 'sink',
        retriable: false,
      });
    }
  }
}
