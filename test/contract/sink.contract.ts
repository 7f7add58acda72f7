// The behaviour every Sink must have, run against MemorySink (unit) and KafkaSink (real broker).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Cursor, CursorKey } from '../../src/contracts/checkpoint.ts';
import { isConnectorError } from '../../src/contracts/errors.ts';
import type { FileEvent } from '../../src/contracts/file-event.ts';
import type { DeadLetter, Sink } from '../../src/contracts/sink.ts';

export type ContractSinkMode = 'at-least-once' | 'exactly-once';

/** What a read_committed consumer of the destination sees. */
export interface CommittedView {
  events: { tenantId: string; id: string }[];
  deadLetters: { tenantId: string; reason: string; recordId: string | null }[];
  checkpoints: { key: string; cursor: Cursor }[];
}

export interface ExpectedCounts {
  events: number;
  deadLetters: number;
  checkpoints: number;
}

/** One isolated destination (for Kafka: fresh topics) shared by the sinks a test creates. */
export interface SinkFixture {
  createSink(options: { mode: ContractSinkMode; shard?: number }): Sink;
  /**
   * What is visible once the expected counts arrived (Kafka writes commit markers after the commit
   * returns), read on to the end so unexpected extras show up too.
   */
  committed(expected: ExpectedCounts): Promise<CommittedView>;
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

function checkpoint(tenantId: string, lowerBound: string): { key: CursorKey; cursor: Cursor } {
  return {
    key: { tenantId, contentType: 'Audit.SharePoint' },
    cursor: { lowerBound, done: { 'blob-1': lowerBound }, updatedAt: '2026-11-20T11:00:00.000Z' },
  };
}

const ids = (view: CommittedView): string[] => view.events.map((e) => e.id).sort();

export function sinkContract(name: string, setup: () => Promise<SinkFixture>): void {
  describe(`${name} satisfies the Sink contract`, () => {
    const started: Sink[] = [];
    let fixture: SinkFixture;

    beforeEach(async () => {
      fixture = await setup();
    });

    async function startSink(mode: ContractSinkMode, shard = 0): Promise<Sink> {
      const sink = fixture.createSink({ mode, shard });
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

      it('runs units concurrently', async () => {
        const sink = await startSink('at-least-once');
        const [a, b] = await Promise.all([sink.begin('tenant-a'), sink.begin('tenant-b')]);
        await Promise.all([a.send([sampleEvent('a1', 'tenant-a')]), b.send([sampleEvent('b1', 'tenant-b')])]);
        await Promise.all([a.commit(), b.commit()]);
        expect(ids(await fixture.committed({ events: 2, deadLetters: 0, checkpoints: 0 }))).toEqual(['a1', 'b1']);
      });
    });

    describe('exactly-once', () => {
      it('is transactional and commits events together with the checkpoint', async () => {
        const sink = await startSink('exactly-once');
        expect(sink.transactional).toBe(true);
        const unit = await sink.begin('tenant-a');
        await unit.send([sampleEvent('e1'), sampleEvent('e2')]);
        await unit.deadLetter([sampleDeadLetter('r1')]);
        await unit.commit(checkpoint('tenant-a', '2026-11-20T10:00:00.000Z'));

        const view = await fixture.committed({ events: 2, deadLetters: 1, checkpoints: 1 });
        expect(ids(view)).toEqual(['e1', 'e2']);
        expect(view.deadLetters.map((d) => d.recordId)).toEqual(['r1']);
        expect(view.checkpoints).toEqual([
          { key: 'tenant-a|Audit.SharePoint', cursor: checkpoint('tenant-a', '2026-11-20T10:00:00.000Z').cursor },
        ]);
      });

      it('shows nothing of an aborted unit, and each event of committed units once', async () => {
        const sink = await startSink('exactly-once');
        const first = await sink.begin('tenant-a');
        await first.send([sampleEvent('c1'), sampleEvent('c2')]);
        await first.commit(checkpoint('tenant-a', '2026-11-20T10:00:00.000Z'));
        const aborted = await sink.begin('tenant-a');
        await aborted.send([sampleEvent('x1'), sampleEvent('x2')]);
        await aborted.deadLetter([sampleDeadLetter('x-dead')]);
        await aborted.abort();
        const third = await sink.begin('tenant-a');
        await third.send([sampleEvent('c3')]);
        await third.commit(checkpoint('tenant-a', '2026-11-20T11:00:00.000Z'));

        const view = await fixture.committed({ events: 3, deadLetters: 0, checkpoints: 2 });
        expect(ids(view)).toEqual(['c1', 'c2', 'c3']);
        expect(view.deadLetters).toEqual([]);
        expect(view.checkpoints.map((c) => c.cursor.lowerBound)).toEqual([
          '2026-11-20T10:00:00.000Z',
          '2026-11-20T11:00:00.000Z',
        ]);
      });

      it('serialises units: begin waits until the open unit ends', async () => {
        const sink = await startSink('exactly-once');
        const first = await sink.begin('tenant-a');
        let secondOpened = false;
        const second = sink.begin('tenant-b').then((unit) => {
          secondOpened = true;
          return unit;
        });
        await first.send([sampleEvent('s1')]);
        expect(secondOpened).toBe(false);
        await first.commit(checkpoint('tenant-a', '2026-11-20T10:00:00.000Z'));
        const unit = await second;
        await unit.send([sampleEvent('s2', 'tenant-b')]);
        await unit.commit(checkpoint('tenant-b', '2026-11-20T10:00:00.000Z'));
        expect(ids(await fixture.committed({ events: 2, deadLetters: 0, checkpoints: 2 }))).toEqual(['s1', 's2']);
      });

      it('lets the next unit open after an abort', async () => {
        const sink = await startSink('exactly-once');
        const first = await sink.begin('tenant-a');
        await first.abort();
        await first.abort();
        const second = await sink.begin('tenant-a');
        await second.send([sampleEvent('after-abort')]);
        await second.commit(checkpoint('tenant-a', '2026-11-20T10:00:00.000Z'));
        expect(ids(await fixture.committed({ events: 1, deadLetters: 0, checkpoints: 1 }))).toEqual(['after-abort']);
      });

      it('is fenced by a newer sink of the same shard: the older commit fails with SINK_FENCED', async () => {
        const old = await startSink('exactly-once', 3);
        const stale = await old.begin('tenant-a');
        await stale.send([sampleEvent('zombie')]);

        const current = await startSink('exactly-once', 3);
        const error: unknown = await stale.commit(checkpoint('tenant-a', '2026-11-20T10:00:00.000Z')).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(isConnectorError(error) && error.code).toBe('SINK_FENCED');
        expect(isConnectorError(error) && error.retriable).toBe(false);
        await stale.abort();
        await expect(old.begin('tenant-a')).rejects.toMatchObject({ code: 'SINK_FENCED' });

        const unit = await current.begin('tenant-a');
        await unit.send([sampleEvent('owner')]);
        await unit.commit(checkpoint('tenant-a', '2026-11-20T10:00:00.000Z'));
        const view = await fixture.committed({ events: 1, deadLetters: 0, checkpoints: 1 });
        expect(ids(view)).toEqual(['owner']);
        expect(view.checkpoints).toHaveLength(1);
      });

      it('does not fence sinks of other shards', async () => {
        const shard1 = await startSink('exactly-once', 1);
        const unit = await shard1.begin('tenant-a');
        await unit.send([sampleEvent('shard-1')]);
        await startSink('exactly-once', 2);
        await unit.commit(checkpoint('tenant-a', '2026-11-20T10:00:00.000Z'));
        expect(ids(await fixture.committed({ events: 1, deadLetters: 0, checkpoints: 1 }))).toEqual(['shard-1']);
      });
    });
  });
}
