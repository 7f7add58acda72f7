import type { KeyedRecord } from '../../contracts/sink.ts';
import type { DigestRecord } from '../../kafka/digest-record.ts';
import type { DigestBackend } from './record-delivered-log.ts';

/**
 * The digest topic as an array, for unit tests. Pass the same `records` to a new backend to restart;
 * `committed` adds the records that went inside committed transactions (e.g. from a MemorySinkLog).
 */
export class MemoryDigestBackend implements DigestBackend {
  readonly topic: string;
  readonly records: DigestRecord[];
  readonly #committed: () => readonly KeyedRecord[];
  writes = 0;

  constructor(options: { topic?: string; records?: DigestRecord[]; committed?: () => readonly KeyedRecord[] } = {}) {
    this.topic = options.topic ?? 'sweep-digests';
    this.records = options.records ?? [];
    this.#committed = options.committed ?? (() => []);
  }

  readAll(onRecord: (key: string | null, value: string | null) => void): Promise<void> {
    for (const r of this.records) onRecord(r.key, r.value);
    for (const r of this.#committed()) if (r.topic === this.topic) onRecord(r.key, r.value);
    return Promise.resolve();
  }

  write(records: readonly DigestRecord[]): Promise<void> {
    this.writes += 1;
    this.records.push(...records.map((r) => ({ key: r.key, value: r.value })));
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
