import type { ContentListing } from '../../../../src/contracts/audit-record.ts';
import type { Cursor, CursorKey } from '../../../../src/contracts/checkpoint.ts';
import { ConnectorError } from '../../../../src/contracts/errors.ts';
import type { FileEvent, NormalizeResult } from '../../../../src/contracts/file-event.ts';
import type { CursorSource, DeadLetter, DeliveryUnit, Sink, UnitCheckpoint } from '../../../../src/contracts/sink.ts';
import { MemoryCheckpointStore } from '../../../../src/checkpoint/memory-checkpoint-store.ts';
import type { MemorySink } from '../../../../src/sink/memory-sink.ts';
import { API_ERRORS } from '../../../../src/source/o365/answers.ts';
import type { ListingWindow } from '../../../../src/source/o365/api-client.ts';
import type { FeedApi, PollerSettings } from '../../../../src/source/poller/tenant-poller.ts';

export const TENANT = '6b1c9a5e-0f2d-4c3b-9a8e-7d6f5e4c3b2a';
export const FEED = `https://manage.example.test/api/v1.0/${TENANT}/activity/feed`;
export const NOW = Date.parse('2026-11-20T12:00:00Z');
export const MIN = 60_000;
export const H = 3600_000;
export const KEY = { tenantId: TENANT, contentType: 'Audit.SharePoint' };

/** Poller settings small enough for a unit test; each test file changes what it is about. */
export const TEST_POLLER_SETTINGS: PollerSettings = {
  pollIntervalMs: MIN,
  firstRunLookbackMs: 72 * H,
  overlapMs: 15 * MIN,
  endLagMs: MIN,
  maxWindowMs: 24 * H,
  blobConcurrency: 3,
  maxInflightBlobs: 16,
  batchEvents: 2,
  malformedBlobAttempts: 3,
  maxBackoffMs: 10_000,
  idleCursorSaveIntervalMs: 0,
};

export interface TestRecord {
  Id: string;
  Operation: string;
}

/** What one openBlob call answers; once a blob's script is used up it serves its records as JSON. */
export type BlobAnswer = { error: ConnectorError } | { body: string };

export interface FakeBlob {
  contentId: string;
  createdMs: number;
  records: TestRecord[];
  contentUri: string;
  script: BlobAnswer[];
}

export function blob(contentId: string, createdMs: number, records: TestRecord[], options: { contentUri?: string; script?: BlobAnswer[] } = {}): FakeBlob {
  return { contentId, createdMs, records, contentUri: options.contentUri ?? `${FEED}/audit/${contentId}`, script: [...(options.script ?? [])] };
}

export const rec = (id: string, operation = 'FileDownloaded'): TestRecord => ({ Id: id, Operation: operation });

export const serverError = (): BlobAnswer => ({
  error: new ConnectorError(API_ERRORS.serverError, 'Internal error at Microsoft (HTTP 500)', { stage: 'download', retriable: true, httpStatus: 500 }),
});

/**
 * The Management Activity API as the poller sees it: listing by contentCreated in [start, end), in
 * pages; blobs as JSON text in small chunks. Counts every call so tests can watch the poller.
 */
export class FakeFeed implements FeedApi {
  readonly blobs: FakeBlob[];
  readonly windows: ListingWindow[] = [];
  readonly opened = new Map<string, number>();
  pagesServed = 0;
  subscriptionError: ConnectorError | undefined;
  /** Which blobs a listing shows right now (late listings, issue 12); default all. */
  listable: (b: FakeBlob) => boolean = () => true;
  readonly #pageSize: number;

  constructor(blobs: FakeBlob[], pageSize = 2) {
    this.blobs = blobs;
    this.#pageSize = pageSize;
  }

  listSubscriptions(): Promise<Array<{ contentType: string; status: string | undefined }>> {
    if (this.subscriptionError !== undefined) return Promise.reject(this.subscriptionError);
    return Promise.resolve([{ contentType: 'Audit.SharePoint', status: 'enabled' }]);
  }

  startSubscription(): Promise<'started' | 'already-enabled'> {
    return Promise.resolve('started');
  }

  async *listContent(_contentType: string, window: ListingWindow): AsyncGenerator<ContentListing[]> {
    this.windows.push(window);
    const inWindow = this.blobs.filter((b) => b.createdMs >= window.startMs && b.createdMs < window.endMs && this.listable(b)).sort((a, b) => a.createdMs - b.createdMs);
    for (let at = 0; at === 0 || at < inWindow.length; at += this.#pageSize) {
      this.pagesServed += 1;
      await Promise.resolve();
      yield inWindow.slice(at, at + this.#pageSize).map((b) => ({
        contentType: 'Audit.SharePoint',
        contentId: b.contentId,
        contentUri: b.contentUri,
        contentCreated: new Date(b.createdMs).toISOString(),
        contentExpiration: new Date(b.createdMs + 7 * 24 * 3600_000).toISOString(),
      }));
    }
  }

  openBlob(contentUri: string, signal?: AbortSignal): Promise<{ body: AsyncIterable<Uint8Array> }> {
    if (signal?.aborted === true) return Promise.reject(signal.reason as Error);
    if (!contentUri.startsWith(`${FEED}/`)) {
      return Promise.reject(new ConnectorError(API_ERRORS.foreignHost, `contentUri points outside the API host: ${contentUri}`, { stage: 'download', retriable: false }));
    }
    const found = this.blobs.find((b) => b.contentUri === contentUri);
    if (found === undefined) throw new Error(`no blob at ${contentUri}`);
    this.opened.set(found.contentId, (this.opened.get(found.contentId) ?? 0) + 1);
    const answer = found.script.shift() ?? { body: JSON.stringify(found.records) };
    if ('error' in answer) return Promise.reject(answer.error);
    return Promise.resolve({ body: chunked(answer.body, 16) });
  }
}

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  for (let at = 0; at < bytes.length; at += size) {
    await Promise.resolve();
    yield bytes.subarray(at, at + size);
  }
}

export function fileEvent(id: string, operation: string): FileEvent {
  return {
    '@timestamp': '2026-11-20T10:00:00.000Z',
    schemaVersion: '1',
    event: { id, action: 'file-downloaded', observer: 'OneDrive', inserted: '2026-11-20T12:00:00.000Z', vector: null, shareType: [] },
    user: { email: 'user@contoso.example', actorKind: 'user', name: 'user@contoso.example' },
    file: {
      name: 'report.docx',
      directory: '/personal/user_contoso_example/Documents/',
      url: 'https://contoso-my.sharepoint.com/personal/user_contoso_example/Documents/report.docx',
      id: null,
      cloudDriveId: null,
      owner: null,
      category: 'Document',
      sizeInBytes: null,
      originalName: null,
      originalDirectory: null,
    },
    source: { ip: null },
    destination: { user: { email: [] } },
    o365: {
      operation,
      recordType: 6,
      workload: 'OneDrive',
      driveType: 'personal',
      personalSiteSegment: 'user_contoso_example',
      tenantId: TENANT,
      userType: 0,
      userKey: null,
      userAgent: null,
      isManagedDevice: null,
      creationTime: '2026-11-20T10:00:00',
      itemType: 'File',
      siteUrl: null,
      correlationId: null,
      applicationName: null,
      geoLocation: null,
      platform: null,
      targetUserOrGroupName: null,
      targetUserOrGroupType: null,
      eventData: null,
      uniqueSharingId: null,
    },
  };
}

/** A stand-in for the real normalizer: `{Id, Operation}` → event; folder operations filtered; no Id rejected. */
export function fakeNormalize(record: unknown): NormalizeResult {
  if (typeof record !== 'object' || record === null) return { kind: 'rejected', reason: 'not-an-object', detail: 'not an object' };
  const { Id, Operation } = record as Partial<TestRecord>;
  if (typeof Id !== 'string') return { kind: 'rejected', reason: 'missing-field', detail: 'Id is missing' };
  if (Operation === 'FolderCreated') return { kind: 'filtered', reason: 'folder-operation' };
  return { kind: 'event', event: fileEvent(Id, Operation ?? 'FileDownloaded') };
}

/** True when the cursor says the blob is finished: below the lower bound, or listed as done. */
export function covers(cursor: Cursor, b: FakeBlob): boolean {
  return b.createdMs < Date.parse(cursor.lowerBound) || Object.hasOwn(cursor.done, b.contentId);
}

/**
 * Invariant 1 as a check: a blob is acknowledged when every record it should publish is in the sink's
 * log, or when it was dead-lettered as a whole.
 */
export function acknowledged(b: FakeBlob, sink: MemorySink): boolean {
  if (sink.log.deadLetters.some((d) => d.contentId === b.contentId && d.recordId === null && d.stage === 'download')) return true;
  const published = new Set(sink.log.events.map((e) => e.event.event.id));
  return b.records.filter((r) => r.Operation !== 'FolderCreated').every((r) => published.has(r.Id));
}

export interface CursorViolation {
  where: 'store' | 'transaction';
  contentId: string;
  cursor: Cursor;
}

/** Checks every cursor written (store saves and transactional commits) against the sink's log at that moment. */
export class CursorAudit {
  readonly violations: CursorViolation[] = [];
  readonly saved: Array<{ cursor: Cursor; atMs: number }> = [];
  readonly #feed: FakeFeed;
  readonly #sink: MemorySink;

  constructor(feed: FakeFeed, sink: MemorySink) {
    this.#feed = feed;
    this.#sink = sink;
  }

  check(where: CursorViolation['where'], cursor: Cursor): void {
    for (const b of this.#feed.blobs) {
      if (covers(cursor, b) && !acknowledged(b, this.#sink)) this.violations.push({ where, contentId: b.contentId, cursor });
    }
  }
}

/** A MemoryCheckpointStore that audits every save against what the sink has acknowledged. */
export class AuditedStore extends MemoryCheckpointStore {
  readonly #audit: CursorAudit;
  readonly #now: () => number;

  constructor(audit: CursorAudit, now: () => number, backing?: Map<string, Cursor>) {
    super(backing);
    this.#audit = audit;
    this.#now = now;
  }

  override async save(key: CursorKey, cursor: Cursor): Promise<void> {
    this.#audit.check('store', cursor);
    this.#audit.saved.push({ cursor: structuredClone(cursor), atMs: this.#now() });
    await super.save(key, cursor);
  }
}

export interface CommittedUnit {
  eventIds: string[];
  deadLetters: DeadLetter[];
  /** The blob the unit (or slice) carried, when it had a checkpoint. */
  contentId: string | undefined;
  /** The cursors written by the group this unit was committed in. */
  groupCursors: Cursor[];
}

/**
 * Wraps a MemorySink: records what each committed unit carried, lets a test hold `send` (Kafka slow),
 * and audits transactional cursors right after their group lands.
 */
export class RecordingSink implements Sink {
  readonly inner: MemorySink;
  readonly committed: CommittedUnit[] = [];
  sendCalls = 0;
  deadLetterCalls = 0;
  /** When set, every deadLetter call fails with it (the dead-letter topic is unavailable). */
  failDeadLetters: Error | undefined;
  #gate: Promise<void> | undefined;
  #open: (() => void) | undefined;
  #lastGroupCursors: Cursor[] = [];

  constructor(inner: MemorySink, audit?: CursorAudit) {
    this.inner = inner;
    inner.afterWrite = (cursors) => {
      // Waiters of a group resume before the next group is written, so this is their group's.
      this.#lastGroupCursors = cursors.map((c) => c.cursor);
      for (const c of cursors) audit?.check('transaction', c.cursor);
    };
  }

  get transactional(): boolean {
    return this.inner.transactional;
  }

  /** Every send from now on waits until `unblock`. */
  block(): void {
    this.#gate ??= new Promise<void>((resolve) => (this.#open = resolve));
  }

  unblock(): void {
    this.#open?.();
    this.#gate = undefined;
    this.#open = undefined;
  }

  start(): Promise<void> {
    return this.inner.start();
  }

  stop(): Promise<void> {
    return this.inner.stop();
  }

  saveCursor(source: CursorSource, options?: { promptly?: boolean }): Promise<void> {
    return this.inner.saveCursor(source, options);
  }

  async begin(tenantId: string): Promise<DeliveryUnit> {
    const unit = await this.inner.begin(tenantId);
    let eventIds: string[] = [];
    let deadLetters: DeadLetter[] = [];
    const record = (checkpoint: UnitCheckpoint | undefined): void => {
      this.committed.push({ eventIds, deadLetters, contentId: checkpoint?.contentId, groupCursors: this.#lastGroupCursors });
      eventIds = [];
      deadLetters = [];
    };
    return {
      get full() {
        return unit.full;
      },
      send: async (events) => {
        this.sendCalls += 1;
        if (this.#gate !== undefined) await this.#gate;
        await unit.send(events);
        eventIds.push(...events.map((e) => e.event.id));
      },
      deadLetter: async (items) => {
        this.deadLetterCalls += 1;
        if (this.failDeadLetters !== undefined) throw this.failDeadLetters;
        await unit.deadLetter(items);
        deadLetters.push(...items);
      },
      attach: (records) => unit.attach(records),
      commitSlice: async (checkpoint, records) => {
        await unit.commitSlice(checkpoint, records);
        record(checkpoint);
      },
      commit: async (checkpoint) => {
        await unit.commit(checkpoint);
        record(checkpoint);
      },
      abort: () => unit.abort(),
    };
  }
}
