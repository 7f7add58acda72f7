/**
 * Audit record → FileEvent v1. Pure: no I/O, no clock except the injected one, and it never throws —
 * every input ends as exactly one of event / filtered (with a counted reason) / rejected (with a
 * reason and a detail for the dead-letter topic). Decisions per operation: README.md here.
 */
import {
  FILE_EVENT_SCHEMA_VERSION,
  type FileAction,
  type FileEvent,
  type NormalizeContext,
  type NormalizeResult,
  type RejectReason,
} from '../../contracts/file-event.ts';
import { resolveActor } from './actor.ts';
import { categoryOf, extensionOf } from './category.ts';
import { classifyDrive, ownerOf } from './drive.ts';
import { boolean, integer, parseCreationTime, text, type RawRecord } from './fields.ts';
import { normalizeIp } from './ip.ts';
import { classifyOperation, isFileWorkload } from './operations.ts';
import { applyDestination, locateFile } from './paths.ts';
import { recipientsOf, shareTypeOf } from './sharing.ts';

export type { NormalizeContext, NormalizeResult } from '../../contracts/file-event.ts';

const MAX_ID_CHARS = 256;
const MOVING_ACTIONS = new Set<FileAction>(['file-renamed', 'file-moved', 'file-copied']);
/** Views of a library page (`Documents/Forms/All.aspx`) are logged as FileAccessed: UI noise. */
const VIEW_ACTIONS = new Set<FileAction>(['file-accessed', 'file-previewed']);

export function normalize(record: unknown, context: NormalizeContext): NormalizeResult {
  try {
    return normalizeRecord(record, context);
  } catch (error) {
    // Unreachable by design; the safety net keeps one odd record from stopping a blob.
    return reject('normalizer-error', error instanceof Error ? error.message : String(error));
  }
}

function reject(reason: RejectReason, detail: string): NormalizeResult {
  return { kind: 'rejected', reason, detail };
}

function required(record: RawRecord, key: string): string | { missing: true } | { invalid: true } {
  const value = record[key];
  if (value === undefined || value === null) return { missing: true };
  const found = text(record, key);
  return found === null ? (typeof value === 'string' ? { missing: true } : { invalid: true }) : found;
}

function fieldProblem(key: string, result: { missing: true } | { invalid: true }): NormalizeResult {
  return 'missing' in result ? reject('missing-field', `${key} is missing or empty`) : reject('invalid-field', `${key} is not a string`);
}

function normalizeRecord(input: unknown, context: NormalizeContext): NormalizeResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return reject('not-an-object', `record is ${Array.isArray(input) ? 'an array' : input === null ? 'null' : typeof input}`);
  }
  const record = input as RawRecord;

  const id = required(record, 'Id');
  if (typeof id !== 'string') return fieldProblem('Id', id);
  if (id.length > MAX_ID_CHARS) return reject('invalid-field', `Id is longer than ${MAX_ID_CHARS} characters`);
  const operation = required(record, 'Operation');
  if (typeof operation !== 'string') return fieldProblem('Operation', operation);
  const creationTime = required(record, 'CreationTime');
  if (typeof creationTime !== 'string') return fieldProblem('CreationTime', creationTime);
  const timestamp = parseCreationTime(creationTime);
  if (timestamp === null) return reject('invalid-field', `CreationTime ${JSON.stringify(creationTime.slice(0, 64))} is not an ISO 8601 time`);
  const recordType = integer(record, 'RecordType');
  if (recordType === null) {
    return record.RecordType === undefined || record.RecordType === null
      ? reject('missing-field', 'RecordType is missing')
      : reject('invalid-field', 'RecordType is not an integer');
  }
  const workload = required(record, 'Workload');
  if (typeof workload !== 'string') return fieldProblem('Workload', workload);

  if (!isFileWorkload(workload)) return { kind: 'filtered', reason: 'other-workload' };
  const operationClass = classifyOperation(operation);
  if (operationClass.kind === 'filtered') return operationClass;
  const { action } = operationClass;

  // Sharing operations also concern folders, sites and lists; only file items are file events.
  // File* operations are trusted over ItemType (a hand-edited public sample has FileCopied + Folder).
  const itemType = text(record, 'ItemType');
  if (operationClass.sharing && itemType !== null && itemType.toLowerCase() !== 'file') {
    return { kind: 'filtered', reason: itemType.toLowerCase() === 'folder' ? 'folder-operation' : 'sharing-administration' };
  }

  const objectId = required(record, 'ObjectId');
  if (typeof objectId !== 'string') return fieldProblem('ObjectId', objectId);
  const userId = required(record, 'UserId');
  if (typeof userId !== 'string') return fieldProblem('UserId', userId);

  const siteUrl = text(record, 'SiteUrl');
  const source = locateFile({
    objectId,
    siteUrl,
    relativeUrl: text(record, 'SourceRelativeUrl'),
    fileName: text(record, 'SourceFileName'),
  });
  if (source === null) return reject('missing-field', 'neither ObjectId nor SourceFileName names a file');
  if (VIEW_ACTIONS.has(action) && extensionOf(source.name) === 'aspx') return { kind: 'filtered', reason: 'page-or-list-view' };
  const location = MOVING_ACTIONS.has(action)
    ? applyDestination(source, siteUrl, text(record, 'DestinationRelativeUrl'), text(record, 'DestinationFileName'))
    : { ...source, originalName: null, originalDirectory: null };

  const userType = integer(record, 'UserType');
  const userKey = text(record, 'UserKey');
  const actor = resolveActor(userId, userType, userKey);
  const drive = classifyDrive([objectId, siteUrl], workload);
  const targetName = text(record, 'TargetUserOrGroupName');
  const targetType = text(record, 'TargetUserOrGroupType');
  const sharing = { operation, action, targetName, targetType, userSharedWith: text(record, 'UserSharedWith') };
  const organizationId = text(record, 'OrganizationId');

  const event: FileEvent = {
    '@timestamp': timestamp,
    schemaVersion: FILE_EVENT_SCHEMA_VERSION,
    event: {
      id,
      action,
      observer: 'OneDrive',
      inserted: insertedAt(context),
      vector: action === 'file-uploaded' ? 'UPLOADED' : action === 'file-downloaded' ? 'DOWNLOADED' : null,
      shareType: shareTypeOf(sharing),
    },
    user: actor,
    file: {
      name: location.name,
      directory: location.directory,
      url: objectId,
      id: text(record, 'ListItemUniqueId'),
      cloudDriveId: cloudDriveIdOf(record),
      owner: ownerOf(drive, actor, context.ownerIndex),
      category: categoryOf(location.name, text(record, 'SourceFileExtension')),
      sizeInBytes: sizeOf(record),
      originalName: location.originalName,
      originalDirectory: location.originalDirectory,
    },
    source: { ip: normalizeIp(record.ClientIP) },
    destination: { user: { email: recipientsOf(sharing) } },
    o365: {
      operation,
      recordType,
      workload,
      driveType: drive.driveType,
      personalSiteSegment: drive.personalSiteSegment,
      tenantId: organizationId?.toLowerCase() ?? context.tenantId,
      userType,
      userKey,
      userAgent: text(record, 'UserAgent'),
      isManagedDevice: boolean(record, 'IsManagedDevice'),
      creationTime,
      itemType,
      siteUrl,
      correlationId: text(record, 'CorrelationId'),
      applicationName: text(record, 'ApplicationDisplayName'),
      geoLocation: text(record, 'GeoLocation'),
      platform: text(record, 'Platform'),
      targetUserOrGroupName: targetName,
      targetUserOrGroupType: targetType,
      eventData: text(record, 'EventData'),
      uniqueSharingId: text(record, 'UniqueSharingId'),
    },
  };
  return { kind: 'event', event };
}

/** Records of one blob are normalized within the same millisecond or so: format that time once. */
let lastInserted = { ms: Number.NaN, iso: '' };
function insertedAt(context: NormalizeContext): string {
  const ms = context.now().getTime();
  if (ms !== lastInserted.ms) lastInserted = { ms, iso: new Date(ms).toISOString() };
  return lastInserted.iso;
}

function cloudDriveIdOf(record: RawRecord): string | null {
  const parts = [text(record, 'Site'), text(record, 'WebId'), text(record, 'ListId')];
  // The three are GUIDs; anything holding the separator would make an ambiguous id.
  if (parts.some((part) => part === null || part.includes(':'))) return null;
  return `spo:${parts.join(':').toLowerCase()}`;
}

function sizeOf(record: RawRecord): number | null {
  const size = integer(record, 'FileSizeBytes');
  return size !== null && size >= 0 ? size : null;
}
