import { cursorKeyString, type CheckpointStore, type Cursor, type CursorKey } from '../contracts/checkpoint.ts';

/**
 * Cursors in a Map, for unit tests. Pass the same `backing` map to a new instance to simulate a
 * restart; cursors are copied in and out so callers cannot mutate what is "stored".
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly backing: Map<string, Cursor>;
  private started = false;

  constructor(backing: Map<string, Cursor> = new Map()) {
    this.backing = backing;
  }

  start(): Promise<void> {
    this.started = true;
    return Promise.resolve();
  }

  load(key: CursorKey): Cursor | undefined {
    if (!this.started) throw new Error('MemoryCheckpointStore.load() called before start()');
    const cursor = this.backing.get(cursorKeyString(key));
    return cursor === undefined ? undefined : structuredClone(cursor);
  }

  save(key: CursorKey, cursor: Cursor): Promise<void> {
    if (!this.started) return Promise.reject(new Error('MemoryCheckpointStore.save() called before start()'));
    this.backing.set(cursorKeyString(key), structuredClone(cursor));
    return Promise.resolve();
  }

  forget(key: CursorKey): Promise<void> {
    if (!this.started) return Promise.reject(new Error('MemoryCheckpointStore.forget() called before start()'));
    this.backing.delete(cursorKeyString(key));
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.started = false;
    return Promise.resolve();
  }
}
