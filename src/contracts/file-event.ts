/**
 * FileEvent v1 — the one schema the connector publishes. Shaped like Code42's v2 file event (what
 * Forensic Search queries), with every Microsoft-specific value under `o365`. The JSON Schema that
 * every emitted event validates against is schema/file-event.v1.json; keep the two in step.
 */
export const FILE_EVENT_SCHEMA_VERSION = '1';

export type FileAction =
  | 'file-uploaded'
  | 'file-downloaded'
  | 'file-modified'
  | 'file-deleted'
  | 'file-renamed'
  | 'file-moved'
  | 'file-copied'
  | 'file-restored'
  | 'file-accessed'
  | 'file-previewed'
  | 'file-shared'
  | 'file-unshared';

export type ActorKind = 'user' | 'guest' | 'app' | 'system' | 'anonymous';
export type DriveType = 'personal' | 'site';

export interface FileEvent {
  '@timestamp': string;
  schemaVersion: typeof FILE_EVENT_SCHEMA_VERSION;
  event: {
    id: string;
    action: FileAction;
    observer: 'OneDrive';
    /** When the connector normalized the record (ISO 8601 UTC). */
    inserted: string;
    vector: 'UPLOADED' | 'DOWNLOADED' | null;
    shareType: string[];
  };
  user: {
    /** The actor's UPN or address; null for apps and system accounts without one. */
    email: string | null;
    actorKind: ActorKind;
    /** The raw actor identity (UserId) for apps and system accounts. */
    name: string;
  };
  file: {
    name: string;
    /** URL-decoded server-relative parent path ending in `/`. */
    directory: string;
    /** The record's ObjectId. */
    url: string;
    id: string | null;
    cloudDriveId: string | null;
    owner: string | null;
    category: string | null;
    sizeInBytes: number | null;
    originalName: string | null;
    originalDirectory: string | null;
  };
  source: { ip: string | null };
  destination: { user: { email: string[] } };
  o365: {
    operation: string;
    recordType: number;
    workload: string;
    driveType: DriveType;
    personalSiteSegment: string | null;
    tenantId: string;
    userType: number | null;
    userAgent: string | null;
    isManagedDevice: boolean | null;
    /** CreationTime exactly as the record carried it. */
    creationTime: string;
  };
}

/** Why a record was not published although it was valid. Each reason is counted. */
export type FilterReason =
  | 'folder-operation'
  | 'page-or-list-view'
  | 'site-administration'
  | 'sharing-administration'
  | 'other-workload'
  | 'not-a-file-operation';

/** Why a record was dead-lettered. */
export type RejectReason =
  | 'not-an-object'
  | 'missing-field'
  | 'invalid-field'
  | 'unparsable-json';

export type NormalizeResult =
  | { kind: 'event'; event: FileEvent }
  | { kind: 'filtered'; reason: FilterReason }
  | { kind: 'rejected'; reason: RejectReason; detail: string };
