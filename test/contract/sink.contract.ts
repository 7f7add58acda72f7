// The behaviour every Sink must have, run against MemorySink (unit) and KafkaSink (real broker).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cursor, CursorKey } from '../../src/contracts/checkpoint.ts';
import { isConnectorError } from '../../src/contracts/errors.ts';
import type { FileEvent } from '../../src/contracts/file-event.ts';
import type { BlobProgress, CursorSource, DeadLetter, Sink, UnitCheckpoint } from '../../src/contracts/sink.ts';

export type ContractSinkMode = 'at-least-once' | 'exactly-once';

/** What a read_committed consumer of the destination sees. */
export interface CommittedView {
  events: { tenantId: string; id: string }[];
  deadLetters: { tenantId: string; reason: string; recordId: string | null }[];
  checkpoints: { key: string; cursor: Cursor }[];
  keyed: { topic: string; key: string; value: string | null }[];
}

export interface ExpectedCounts {
  events: number;
  deadLetters: number;
  checkpoints: number;
  keyed?: number;
}

/** One isolated destination (for Kafka: fresh topics) shared by the sinks a test creates. */
export interface SinkFixture {
  /** `groupIntervalMs` overrides the group interval (default: the sink's own, short). */
  createSink(options: { mode: ContractSinkMode; shard?: number; groupIntervalMs?: number }): Sink;
  /**
   * What is visible once the expected counts arrived (Kafka writes commit markers after the commit
   * returns), read on to the end so unexpected extras show up too.
   */
  committed(expected: ExpectedCounts): Promise<CommittedView>;
  /** A side topic the fixture created, for keyed records. */
  sideTopic: string;
}

/**
 * Sinks treat events as opaque JSON keyed by `event.id`, so this sample is cast rather than kept in
 * step with every field FileEvent gains.
 */
export function sampleEvent(id: string, tenantId = 'tenant-a'): FileEvent {
  const event = {
    '@timestamp': '2026-11-20T10:00:00.000Z',
    schemaVersion: '1',
    event: { id, action: 'file-downloaded', observer: 'OneDrive', inserted: '2026-11-20T10:05:00.000Z', vector: null, shareType: [] },
    user: { email: 'alice@contoso.example', actorKind: 'user', name: 'alice@contoso.example' },
    file: {
      name: 'plan.docx',
      directory: '/personal/alice_contoso_example/Documents/',
      url: 'https://contoso-my.sharepoint.com/personal/alice_contoso_example/Documents/plan.docx',
      id: null,
      cloudDriveId: null,
      owner: 'alice@contoso.example',
      category: 'Document',
      sizeInBytes: 1234,
      originalName: null,
      originalDirectory: null,
    },
    source: { ip: '198.51.100.7' },
    destination: { user: { email: [] } },
    o365: {
      operation: 'FileDownloaded',
      recordType: 6,
      workload: 'OneDrive',
      driveType: 'personal',
      personalSiteSegment: 'alice_contoso_example',
      tenantId,
      userType: 0,
      userAgent: null,
      isManagedDevice: null,
      creationTime: '2026-11-20T10:00:00',
    },
  };
  return event as unknown as FileEvent;
}

export function sampleDeadLetter(recordId: string, tenantId = 'tenant-a'): DeadLetter {
  return {
    tenantId,
    reason: 'missing-field',
    stage: 'normalize',
    contentId: 'blob-1',
    contentUri: null,
    recordId,
    detail: 'ObjectId is missing',
    payload: '{"Id":"x"}',
  };
}

/**
 * A CursorSource that answers a fixed cursor (or none) and records what the sink told it became
 * durable, in order. For sink tests; the poller's real one is src/checkpoint/tenant-cursor.ts.
 */
export class FixedCursorSource implements CursorSource {
  readonly key: CursorKey;
  cursor: Cursor | undefined;
  readonly asked: Array<Map<string, BlobProgress>> = [];
  readonly durable: Array<{ progress: Map<string, BlobProgress>; cursor: Cursor | undefined }> = [];

  constructor(tenantId: string, lowerBound: string | undefined) {
    this.key = { tenantId, contentType: 'Audit.SharePoint' };
    this.cursor = lowerBound === undefined ? undefined : cursorAt(lowerBound);
  }

  cursorAfter(progress: ReadonlyMap<string, BlobProgress>): Cursor | undefined {
    this.asked.push(new Map(progress));
    return this.cursor;
  }

  committed(progress: ReadonlyMap<string, BlobProgress>, cursor: Cursor | undefined): void {
    this.durable.push({ progress: new Map(progress), cursor });
  }
}

function cursorAt(lowerBound: string): Cursor {
  return { lowerBound, done: { 'blob-1': lowerBound }, updatedAt: '2026-11-20T11:00:00.000Z' };
}

function checkpoint(source: CursorSource, contentId = 'blob-1'): UnitCheckpoint {
  return { source, contentId };
}

const ids = (view: CommittedView): string[] => view.events.map((e) => e.id).sort();
const T10 = '2026-11-20T10:00:00.000Z';
const T11 = '2026-11-20T11:00:00.000Z';

export function sinkContract(name: string, setup: () => Promise<SinkFixture>): void {
  describe(`${name} satisfies the Sink contract`, () => {
    const started: Sink[] = [];
    let fixture: SinkFixture;

    beforeEach(async () => {
      fixture = await setup();
    });

    async function startSink(mode: ContractSinkMode, shard = 0, groupIntervalMs?: number): Promise<Sink> {
      const sink = fixture.createSink({ mode, shard, ...(groupIntervalMs === undefined ? {} : { groupIntervalMs }) });
      started.push(sink);
      await sink.start();
      return sink;
    }

    afterEach(async () => {
      await Promise.all(started.splice(0).map((s) => s.stop()));
    });

    it('is safe to stop before start and twice', async () => {
      const sink = fixture.createSink({ mode: 'exactly-once' });
      await sink.stop();
      await sink.stop();
    });

    describe('at-least-once', () => {
      it('is not transactional and publishes what each unit sends', async () => {
        const sink = await startSink('at-least-once');
        expect(sink.transactional).toBe(false);
        const unit = await sink.begin('tenant-a');
        await unit.send([sampleEvent('e1'), sampleEvent('e2')]);
        await unit.deadLetter([sampleDeadLetter('r1')]);
        await unit.commit();

        const view = await fixture.committed({ events: 2, deadLetters: 1, checkpoints: 0 });
        expect(ids(view)).toEqual(['e1', 'e2']);
        expect(view.events.every((e) => e.tenantId === 'tenant-a')).toBe(true);
        expect(view.deadLetters).toEqual([{ tenantId: 'tenant-a', reason: 'missing-field', recordId: 'r1' }]);
      });

      it('runs units concurrently and tells each cursor source what became durable, writing no cursor', async () => {
        const sink = await startSink('at-least-once');
        const [sourceA, sourceB] = [new FixedCursorSource('tenant-a', T10), new FixedCursorSource('tenant-b', T10)];
        const [a, b] = await Promise.all([sink.begin('tenant-a'), sink.begin('tenant-b')]);
        await Promise.all([a.send([sampleEvent('a1', 'tenant-a')]), b.send([sampleEvent('b1', 'tenant-b')])]);
        await Promise.all([a.commit(checkpoint(sourceA, 'blob-a')), b.commit(checkpoint(sourceB, 'blob-b'))]);
        expect(ids(await fixture.committed({ events: 2, deadLetters: 0, checkpoints: 0 }))).toEqual(['a1', 'b1']);
        expect(sourceA.durable).toEqual([{ progress: new Map([['blob-a', { done: true }]]), cursor: undefined }]);
        expect(sourceA.asked).toEqual([]);
        await expect(sink.saveCursor(sourceA)).resolves.toBeUndefined();
      });
    });

    describe('exactly-once', () => {
      it('is transactional and commits events together with the checkpoint', async () => {
        const sink = await startSink('exactly-once');
        expect(sink.transactional).toBe(true);
        const source = new FixedCursorSource('tenant-a', T10);
        const unit = await sink.begin('tenant-a');
        await unit.send([sampleEvent('e1'), sampleEvent('e2')]);
        await unit.deadLetter([sampleDeadLetter('r1')]);
        await unit.commit(checkpoint(source));

        const view = await fixture.committed({ events: 2, deadLetters: 1, checkpoints: 1 });
        expect(ids(view)).toEqual(['e1', 'e2']);
        expect(view.deadLetters.map((d) => d.recordId)).toEqual(['r1']);
        expect(view.checkpoints).toEqual([{ key: 'tenant-a|Audit.SharePoint', cursor: cursorAt(T10) }]);
        expect(source.asked).toEqual([new Map([['blob-1', { done: true }]])]);
        expect(source.durable).toEqual([{ progress: new Map([['blob-1', { done: true }]]), cursor: cursorAt(T10) }]);
      });

      it('shows nothing of an aborted unit, and each event of committed units once', async () => {
        const sink = await startSink('exactly-once');
        const source = new FixedCursorSource('tenant-a', T10);
        const first = await sink.begin('tenant-a');
        await first.send([sampleEvent('c1'), sampleEvent('c2')]);
        await first.commit(checkpoint(source));
        const aborted = await sink.begin('tenant-a');
        await aborted.send([sampleEvent('x1'), sampleEvent('x2')]);
        await aborted.deadLetter([sampleDeadLetter('x-dead')]);
        await aborted.abort();
        source.cursor = cursorAt(T11);
        const third = await sink.begin('tenant-a');
        await third.send([sampleEvent('c3')]);
        await third.commit(checkpoint(source, 'blob-3'));

        const view = await fixture.committed({ events: 3, deadLetters: 0, checkpoints: 2 });
        expect(ids(view)).toEqual(['c1', 'c2', 'c3']);
        expect(view.deadLetters).toEqual([]);
        expect(view.checkpoints.map((c) => c.cursor.lowerBound)).toEqual([T10, T11]);
      });

      it('commits units of several tenants that finish together in one group, one cursor per source', async () => {
        const sink = await startSink('exactly-once', 0, 300);
        const [sourceA, sourceB] = [new FixedCursorSource('tenant-a', T10), new FixedCursorSource('tenant-b', T11)];
        const units = await Promise.all([sink.begin('tenant-a'), sink.begin('tenant-a'), sink.begin('tenant-b')]);
        await units[0].send([sampleEvent('a1', 'tenant-a')]);
        await units[1].send([sampleEvent('a2', 'tenant-a')]);
        await units[2].send([sampleEvent('b1', 'tenant-b')]);
        await Promise.all([units[0].commit(checkpoint(sourceA, 'a-1')), units[1].commit(checkpoint(sourceA, 'a-2')), units[2].commit(checkpoint(sourceB, 'b-1'))]);

        const view = await fixture.committed({ events: 3, deadLetters: 0, checkpoints: 2 });
        expect(ids(view)).toEqual(['a1', 'a2', 'b1']);
        expect(view.checkpoints.map((c) => c.key).sort()).toEqual(['tenant-a|Audit.SharePoint', 'tenant-b|Audit.SharePoint']);
        // One group: each source was asked once, with every blob of its tenant in the group.
        expect(sourceA.asked).toEqual([new Map([['a-1', { done: true }], ['a-2', { done: true }]])]);
        expect(sourceB.durable).toHaveLength(1);
      });

      it('aborts a failed group whole: every unit of every tenant in it rejects, none is visible, all can be retried', async () => {
        const old = await startSink('exactly-once', 4, 1_500);
        const [sourceA, sourceB] = [new FixedCursorSource('tenant-a', T10), new FixedCursorSource('tenant-b', T10)];
        const a = await old.begin('tenant-a');
        const b = await old.begin('tenant-b');
        await a.send([sampleEvent('ga', 'tenant-a')]);
        await b.send([sampleEvent('gb', 'tenant-b')]);
        const commits = [a.commit(checkpoint(sourceA)), b.commit(checkpoint(sourceB))].map((p) => p.then(() => undefined, (e: unknown) => e));
        // A newer owner of the shard fences the old producer before the group is written.
        const current = await startSink('exactly-once', 4);
        const outcomes = await Promise.all(commits);
        for (const outcome of outcomes) expect(isConnectorError(outcome) && outcome.code).toBe('SINK_FENCED');
        expect(sourceA.durable).toEqual([]);
        expect(sourceB.durable).toEqual([]);

        for (const [tenant, source, id] of [['tenant-a', sourceA, 'ga'], ['tenant-b', sourceB, 'gb']] as const) {
          const retry = await current.begin(tenant);
          await retry.send([sampleEvent(id, tenant)]);
          await retry.commit(checkpoint(source));
        }
        const view = await fixture.committed({ events: 2, deadLetters: 0, checkpoints: 2 });
        expect(ids(view)).toEqual(['ga', 'gb']);
      });

      it('commits a huge unit in slices, reporting each position, then the blob as done', async () => {
        const sink = await startSink('exactly-once');
        const source = new FixedCursorSource('tenant-a', T10);
        const unit = await sink.begin('tenant-a');
        await unit.send([sampleEvent('s1')]);
        await unit.commitSlice(checkpoint(source), 1);
        await unit.send([sampleEvent('s2')]);
        await unit.commit(checkpoint(source));
        const view = await fixture.committed({ events: 2, deadLetters: 0, checkpoints: 2 });
        expect(ids(view)).toEqual(['s1', 's2']);
        expect(source.durable.map((d) => d.progress)).toEqual([new Map([['blob-1', { done: false, records: 1 }]]), new Map([['blob-1', { done: true }]])]);
      });

      it('writes keyed side records with the unit, and on their own without a cursor', async () => {
        const sink = await startSink('exactly-once');
        const source = new FixedCursorSource('tenant-a', T10);
        const unit = await sink.begin('tenant-a');
        await unit.send([sampleEvent('k1')]);
        await unit.attach([{ topic: fixture.sideTopic, key: 'drive-1', value: '{"drive":1}' }]);
        await unit.commit(checkpoint(source));
        const alone = await sink.begin('tenant-a');
        await alone.attach([{ topic: fixture.sideTopic, key: 'drive-1', value: null }]);
        await alone.commit();
        const dropped = await sink.begin('tenant-a');
        await dropped.attach([{ topic: fixture.sideTopic, key: 'never', value: 'x' }]);
        await dropped.abort();

        const view = await fixture.committed({ events: 1, deadLetters: 0, checkpoints: 1, keyed: 2 });
        expect(view.keyed).toEqual([
          { topic: fixture.sideTopic, key: 'drive-1', value: '{"drive":1}' },
          { topic: fixture.sideTopic, key: 'drive-1', value: null },
        ]);
        expect(view.checkpoints).toHaveLength(1);
      });

      it('writes a cursor asked for on its own, and nothing when the source has no change', async () => {
        const sink = await startSink('exactly-once');
        const moved = new FixedCursorSource('tenant-a', T11);
        const idle = new FixedCursorSource('tenant-b', undefined);
        await Promise.all([sink.saveCursor(moved), sink.saveCursor(idle)]);
        const view = await fixture.committed({ events: 0, deadLetters: 0, checkpoints: 1 });
        expect(view.checkpoints).toEqual([{ key: 'tenant-a|Audit.SharePoint', cursor: cursorAt(T11) }]);
        expect(idle.asked).toEqual([new Map()]);
        expect(idle.durable).toEqual([{ progress: new Map(), cursor: undefined }]);
      });

      it('lets the next unit commit after an abort', async () => {
        const sink = await startSink('exactly-once');
        const first = await sink.begin('tenant-a');
        await first.abort();
        await first.abort();
        const second = await sink.begin('tenant-a');
        await second.send([sampleEvent('after-abort')]);
        await second.commit(checkpoint(new FixedCursorSource('tenant-a', T10)));
        expect(ids(await fixture.committed({ events: 1, deadLetters: 0, checkpoints: 1 }))).toEqual(['after-abort']);
      });

      it('is fenced by a newer sink of the same shard: the older commit fails with SINK_FENCED', async () => {
        const old = await startSink('exactly-once', 3);
        const stale = await old.begin('tenant-a');
        await stale.send([sampleEvent('zombie')]);

        const current = await startSink('exactly-once', 3);
        const error: unknown = await stale.commit(checkpoint(new FixedCursorSource('tenant-a', T10))).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isConnectorError(error) && error.code).toBe('SINK_FENCED');
        expect(isConnectorError(error) && error.retriable).toBe(false);
        await stale.abort();
        await expect(old.begin('tenant-a')).rejects.toMatchObject({ code: 'SINK_FENCED' });

        const unit = await current.begin('tenant-a');
        await unit.send([sampleEvent('owner')]);
        await unit.commit(checkpoint(new FixedCursorSource('tenant-a', T10)));
        const view = await fixture.committed({ events: 1, deadLetters: 0, checkpoints: 1 });
        expect(ids(view)).toEqual(['owner']);
        expect(view.checkpoints).toHaveLength(1);
      });

      it('does not fence sinks of other shards', async () => {
        const shard1 = await startSink('exactly-once', 1, 500);
        const unit = await shard1.begin('tenant-a');
        await unit.send([sampleEvent('shard-1')]);
        const committing = unit.commit(checkpoint(new FixedCursorSource('tenant-a', T10)));
        await startSink('exactly-once', 2);
        await committing;
        expect(ids(await fixture.committed({ events: 1, deadLetters: 0, checkpoints: 1 }))).toEqual(['shard-1']);
      });
    });
  });
}
