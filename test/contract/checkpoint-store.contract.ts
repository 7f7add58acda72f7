// The behaviour every CheckpointStore must have, run against the in-memory and the Kafka store.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CheckpointStore, Cursor, CursorKey } from '../../src/contracts/checkpoint.ts';

/** One isolated storage (for Kafka: a fresh compacted topic); every store it creates shares it. */
export interface CheckpointStoreFixture {
  createStore(): CheckpointStore;
}

const keyA: CursorKey = { tenantId: 'tenant-a', contentType: 'Audit.SharePoint' };
const keyB: CursorKey = { tenantId: 'tenant-b', contentType: 'Audit.SharePoint' };
const keyA2: CursorKey = { tenantId: 'tenant-a', contentType: 'Audit.General' };

function cursor(lowerBound: string, done: Record<string, string> = {}): Cursor {
  return { lowerBound, done, updatedAt: '2026-11-20T12:00:00.000Z' };
}

export function checkpointStoreContract(name: string, setup: () => Promise<CheckpointStoreFixture>): void {
  describe(`${name} satisfies the CheckpointStore contract`, () => {
    const started: CheckpointStore[] = [];
    let fixture: CheckpointStoreFixture;

    beforeEach(async () => {
      fixture = await setup();
    });

    afterEach(async () => {
      await Promise.all(started.splice(0).map((s) => s.stop()));
    });

    async function startStore(): Promise<CheckpointStore> {
      const store = fixture.createStore();
      started.push(store);
      await store.start();
      return store;
    }

    it('has no cursor on the first run', async () => {
      const store = await startStore();
      expect(store.load(keyA)).toBeUndefined();
    });

    it('loads what it saved, key by key', async () => {
      const store = await startStore();
      await store.save(keyA, cursor('2026-11-20T10:00:00.000Z', { 'blob-1': '2026-11-20T10:00:01.000Z' }));
      await store.save(keyB, cursor('2026-11-19T10:00:00.000Z'));
      expect(store.load(keyA)).toEqual(cursor('2026-11-20T10:00:00.000Z', { 'blob-1': '2026-11-20T10:00:01.000Z' }));
      expect(store.load(keyB)).toEqual(cursor('2026-11-19T10:00:00.000Z'));
      expect(store.load(keyA2)).toBeUndefined();
    });

    it('forgets a cursor (deauthorization), also across a restart, and keeps the other keys', async () => {
      const store = await startStore();
      await store.save(keyA, cursor('2026-11-20T10:00:00.000Z'));
      await store.save(keyB, cursor('2026-11-19T10:00:00.000Z'));
      await store.forget(keyA);
      expect(store.load(keyA)).toBeUndefined();
      const restarted = await startStore();
      expect(restarted.load(keyA)).toBeUndefined();
      expect(restarted.load(keyB)?.lowerBound).toBe('2026-11-19T10:00:00.000Z');
    });

    it('keeps the latest cursor per key', async () => {
      const store = await startStore();
      await store.save(keyA, cursor('2026-11-20T10:00:00.000Z'));
      await store.save(keyA, cursor('2026-11-20T11:00:00.000Z'));
      expect(store.load(keyA)?.lowerBound).toBe('2026-11-20T11:00:00.000Z');
    });

    it('does not let callers change a stored cursor by mutating it', async () => {
      const store = await startStore();
      const saved = cursor('2026-11-20T10:00:00.000Z');
      await store.save(keyA, saved);
      saved.done['sneaky'] = 'x';
      const loaded = store.load(keyA);
      if (loaded !== undefined) loaded.done['sneaky'] = 'y';
      expect(store.load(keyA)?.done).toEqual({});
    });

    it('survives a restart: a new instance loads the latest cursors', async () => {
      const first = await startStore();
      await first.save(keyA, cursor('2026-11-20T10:00:00.000Z'));
      await first.save(keyA, cursor('2026-11-20T11:00:00.000Z'));
      await first.save(keyB, cursor('2026-11-18T00:00:00.000Z'));
      await first.stop();

      const second = await startStore();
      expect(second.load(keyA)?.lowerBound).toBe('2026-11-20T11:00:00.000Z');
      expect(second.load(keyB)?.lowerBound).toBe('2026-11-18T00:00:00.000Z');
    });

    it('is safe to stop before start and twice', async () => {
      const store = fixture.createStore();
      await store.stop();
      await store.stop();
    });
  });
}
