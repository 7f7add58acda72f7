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

/**
 * Conventions (Code42's): every field is always present; an unknown scalar is `null`, an unknown list
 * is `[]`, nested objects are never omitted — so consumers never branch on presence.
 */
export interface FileEvent {
  /** When the activity happened: the record's CreationTime read as UTC, ISO 8601 with milliseconds and `Z`. */
  '@timestamp': string;
  schemaVersion: typeof FILE_EVENT_SCHEMA_VERSION;
  event: {
    /** The record's `Id`: the dedupe key (and Kafka key); records repeat and arrive out of order. */
    id: string;
    action: FileAction;
    observer: 'OneDrive';
    /** When the connector normalized the record (ISO 8601 UTC). */
    inserted: string;
    vector: 'UPLOADED' | 'DOWNLOADED' | null;
    /** Sharing kinds this event added (Code42 display values); `[]` when none or not obvious. */
    shareType: ShareType[];
  };
  user: {
    /** The actor's UPN or address, lower-cased; null for apps, system accounts and anonymous users. */
    email: string | null;
    actorKind: ActorKind;
    /** The raw actor identity (UserId), always kept. */
    name: string;
  };
  file: {
    name: string;
    /** URL-decoded server-relative parent path ending in `/`. */
    directory: string;
    /** The record's ObjectId. */
    url: string;
    /** ListItemUniqueId: stable across rename and move within a library. */
    id: string | null;
    /** `spo:<Site>:<WebId>:<ListId>` (the document library), when the record names all three. */
    cloudDriveId: string | null;
    /** The personal drive's owner (UPN) when it can be derived safely; always null for sites. */
    owner: string | null;
    category: FileCategory | null;
    sizeInBytes: number | null;
    /** Rename/move/copy: the source name and directory (the destination is `name`/`directory`). */
    originalName: string | null;
    originalDirectory: string | null;
  };
  source: { ip: string | null };
  /** Sharing recipients (addresses only; groups and link ids are not people). */
  destination: { user: { email: string[] } };
  o365: {
    /** The raw Operation, always kept. */
    operation: string;
    recordType: number;
    workload: string;
    driveType: DriveType;
    /** The `<segment>` of `/personal/<segment>/`, lower-cased; null outside personal drives. */
    personalSiteSegment: string | null;
    /** The tenant GUID (OrganizationId, lower-cased), or the connector's tenant id when absent. */
    tenantId: string;
    userType: number | null;
    userKey: string | null;
    userAgent: string | null;
    isManagedDevice: boolean | null;
    /** CreationTime exactly as the record carried it. */
    creationTime: string;
    itemType: string | null;
    siteUrl: string | null;
    correlationId: string | null;
    applicationName: string | null;
    geoLocation: string | null;
    platform: string | null;
    /** Sharing records: the raw target, its type, the EventData fragment and the sharing id. */
    targetUserOrGroupName: string | null;
    targetUserOrGroupType: string | null;
    eventData: string | null;
    uniqueSharingId: string | null;
  };
}

export type ShareType = 'Anyone with the link' | 'Anyone in your organization' | 'Shared with specific people';

export type FileCategory =
  | 'Archive'
  | 'Audio'
  | 'Document'
  | 'Executable'
  | 'Image'
  | 'Pdf'
  | 'Presentation'
  | 'Script'
  | 'SourceCode'
  | 'Spreadsheet'
  | 'Video'
  | 'VirtualDiskImage';

/**
 * Why a record was not published although it was valid. Each reason is counted. The operation → reason
 * table is in src/transform/normalize/README.md.
 */
export type FilterReason =
  | 'folder-operation'
  | 'page-or-list-view'
  | 'site-administration'
  | 'sharing-administration'
  | 'other-workload'
  | 'not-a-file-operation'
  /** An Operation in none of our tables (Microsoft adds operations): counted so it gets noticed. */
  | 'unknown-operation';

/** Why a record was dead-lettered. */
export type RejectReason =
  | 'not-an-object'
  | 'missing-field'
  | 'invalid-field'
  | 'unparsable-json'
  /** The normalizer hit an unexpected condition; it never throws, the record is dead-lettered instead. */
  | 'normalizer-error';

export type NormalizeResult =
  | { kind: 'event'; event: FileEvent }
  | { kind: 'filtered'; reason: FilterReason }
  | { kind: 'rejected'; reason: RejectReason; detail: string };

/**
 * Personal-drive segment → owner UPN, built from the directory (e.g. Entra `mySite` or the segment
 * rule applied to every user's UPN). Keys are lower-case segments. A `ReadonlyMap` satisfies it.
 */
export interface OwnerIndex {
  get(segment: string): string | undefined;
}

export interface NormalizeContext {
  /** The connector's tenant id, used when a record carries no OrganizationId. */
  tenantId: string;
  /** Source of `event.inserted`; injected so tests and goldens are stable. */
  now: () => Date;
  ownerIndex?: OwnerIndex;
}
