import type { Rng } from '../prng.ts';
import type { Library, TenantModel } from './tenant-model.ts';
import {
  BROWSER_AGENTS, FILE_EXTENSIONS, FILE_STEMS, FOLDERS, GEO_LOCATIONS, OPERATIONS, SERVICE_AGENTS,
  SHAREPOINT_APP_USER_KEY, SHARING_EVENT_DATA, SYNC_AGENTS, type OperationKind,
} from './vocabulary.ts';

/**
 * One synthetic Audit.SharePoint record, shaped like the real ones in shared/samples: field names and
 * types per o365-api.md §4.1–4.5, Workload by drive (§4.8), actors per §4.6, CreationTime without a
 * zone (§4.1). Field order varies a little between records, as it does in real blobs.
 */
export type SyntheticRecord = Record<string, unknown> & { Id: string; Operation: string; Workload: string; RecordType: number };

interface Actor {
  userId: string;
  userKey: string;
  userType: number;
  app: boolean;
}

/** `YYYY-MM-DDTHH:MM:SS`, UTC, no zone: how CreationTime is serialised (o365-api.md §4.1). */
export function formatCreationTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

function ipAddress(rng: Rng): string {
  // Documentation address ranges only (RFC 5737 / RFC 3849).
  return rng.weighted([
    [`203.0.113.${rng.int(1, 254)}`, 5],
    [`198.51.100.${rng.int(1, 254)}`, 3],
    [`2001:db8:${rng.hex(4)}::${rng.hex(4)}`, 2],
  ]);
}

function pickActor(rng: Rng, model: TenantModel, kind: OperationKind): Actor {
  if (kind === 'group' && rng.chance(0.8)) {
    return { userId: 'app@sharepoint', userKey: SHAREPOINT_APP_USER_KEY, userType: 0, app: true };
  }
  const roll = rng.next();
  if (roll < 0.08 && kind !== 'sync' && kind !== 'sync-policy') {
    return { userId: rng.pick(model.guests), userKey: `i:0#.f|membership|${rng.hex(16)}`, userType: 0, app: false };
  }
  if (roll < 0.12) return { userId: 'app@sharepoint', userKey: SHAREPOINT_APP_USER_KEY, userType: 0, app: true };
  if (roll < 0.14) return { userId: 'SHAREPOINT\\system', userKey: '', userType: 4, app: true };
  const member = rng.pick(model.members);
  return { userId: member.upn, userKey: member.userKey, userType: 0, app: false };
}

function pickLibrary(rng: Rng, model: TenantModel, actor: Actor): Library {
  // Most personal-site activity is the owner's own; the rest is sharing, guests, apps.
  const own = model.members.find((m) => m.upn === actor.userId);
  if (own && rng.chance(0.45)) return own.personal;
  return rng.chance(0.45) ? rng.pick(model.members).personal : rng.pick(model.sites);
}

function fileName(rng: Rng): { name: string; extension: string } {
  const extension = rng.pick(FILE_EXTENSIONS);
  const stem = rng.chance(0.3) ? `${rng.pick(FILE_STEMS)} ${rng.int(1, 99)}` : rng.pick(FILE_STEMS);
  return { name: `${stem}.${extension}`, extension };
}

function relativeFolder(rng: Rng, library: Library): string {
  const folder = rng.pick(FOLDERS);
  return folder === '' ? library.libraryName : `${library.libraryName}/${folder}`;
}

function objectUrl(rng: Rng, siteUrl: string, relative: string): string {
  const url = `${siteUrl}${relative}`;
  // A few ObjectIds come percent-encoded; most carry raw spaces and unicode, as in the samples.
  return rng.chance(0.04) ? encodeURI(url) : url;
}

function agentFields(rng: Rng, actor: Actor, kind: OperationKind): Record<string, unknown> {
  if (actor.app) return { UserAgent: rng.pick(['', 'MS Scanner ATP']), ClientIP: '' };
  if (kind === 'sync' || kind === 'sync-policy') {
    return {
      UserAgent: rng.pick(SYNC_AGENTS),
      ClientIP: ipAddress(rng),
      MachineDomainInfo: rng.guid(),
      MachineId: rng.guid(),
      Platform: 'WinDesktop',
    };
  }
  const service = rng.chance(0.08);
  return {
    UserAgent: service ? rng.pick(SERVICE_AGENTS) : rng.pick(BROWSER_AGENTS),
    ClientIP: ipAddress(rng),
    AuthenticationType: rng.pick(['OAuth', 'FormsCookieAuth']),
    BrowserName: service ? '' : rng.pick(['Edge', 'Chrome', 'Firefox', 'Safari']),
    IsManagedDevice: rng.chance(0.6),
    Platform: service ? 'Service' : rng.pick(['WinDesktop', 'MacDesktop', 'iOS']),
    GeoLocation: rng.pick(GEO_LOCATIONS),
  };
}

function libraryFields(rng: Rng, library: Library): Record<string, unknown> {
  return {
    Site: library.siteId,
    WebId: library.webId,
    ListId: library.listId,
    ListItemUniqueId: rng.guid(),
    // Some records carry SiteUrl without its trailing slash (o365-api.md §4.3).
    SiteUrl: rng.chance(0.2) ? library.siteUrl.slice(0, -1) : library.siteUrl,
    ListBaseType: 1,
    ListServerTemplate: library.personal ? 700 : 101,
  };
}

function fileFields(rng: Rng, operation: string, kind: OperationKind, library: Library): Record<string, unknown> {
  const folder = relativeFolder(rng, library);
  const file = fileName(rng);
  const fields: Record<string, unknown> = {
    ItemType: 'File',
    SourceRelativeUrl: folder,
    SourceFileName: file.name,
    SourceFileExtension: file.extension,
    ObjectId: objectUrl(rng, library.siteUrl, `${folder}/${file.name}`),
  };
  if (kind === 'file-destination') {
    const destFolder = operation === 'FileRenamed' ? folder : relativeFolder(rng, library);
    const dest = operation === 'FileMoved' ? file : fileName(rng);
    fields['DestinationRelativeUrl'] = destFolder;
    fields['DestinationFileName'] = dest.name;
    fields['DestinationFileExtension'] = dest.extension;
  }
  if (operation.startsWith('FileModified') || operation === 'FileUploaded' || operation === 'FileDownloaded') {
    fields['FileSizeBytes'] = rng.int(120, 80_000_000);
  }
  if (kind === 'sync') fields['FileSyncBytesCommitted'] = String(rng.int(1000, 5_000_000));
  return fields;
}

function sharingFields(rng: Rng, model: TenantModel, operation: string): Record<string, unknown> {
  const anonymous = operation.startsWith('Anonymous');
  const target = anonymous ? `SharingLinks.${rng.guid()}.AnonymousEdit.${rng.guid()}` : rng.chance(0.5) ? rng.pick(model.guests).slice('urn:spo:guest#'.length) : rng.pick(model.members).upn;
  return {
    TargetUserOrGroupName: target,
    TargetUserOrGroupType: anonymous ? 'SharePointGroup' : target.includes(model.domain) ? 'Member' : 'Guest',
    EventData: rng.pick(SHARING_EVENT_DATA),
    UniqueSharingId: rng.guid(),
  };
}

function kindFields(rng: Rng, model: TenantModel, operation: string, kind: OperationKind, library: Library): Record<string, unknown> {
  switch (kind) {
    case 'file':
    case 'file-destination':
    case 'sync':
      return fileFields(rng, operation, kind, library);
    case 'sharing': {
      const file = fileFields(rng, operation, 'file', library);
      // In sharing records SourceRelativeUrl is the item path itself (o365-api.md §4.3).
      return { ...file, SourceRelativeUrl: `${String(file['SourceRelativeUrl'])}/${String(file['SourceFileName'])}`, ...sharingFields(rng, model, operation) };
    }
    case 'folder': {
      const folder = relativeFolder(rng, library);
      const name = rng.pick(['Neuer Ordner', 'Archive 2024', 'Client files', 'Фото']);
      return { ItemType: 'Folder', SourceRelativeUrl: folder, SourceFileName: name, SourceFileExtension: '', ObjectId: objectUrl(rng, library.siteUrl, `${folder}/${name}`) };
    }
    case 'page':
      return { ItemType: 'Page', ObjectId: `${library.siteUrl}${library.personal ? '_layouts/15/onedrive.aspx' : 'SitePages/Home.aspx'}` };
    case 'list':
      return { ItemType: 'List', ObjectId: `${library.siteUrl}${library.libraryName}`, ListBaseTemplateType: '101' };
    case 'group':
      return { ItemType: 'Web', ObjectId: library.siteUrl, EventData: '<Group>Site Members</Group>', TargetUserOrGroupName: rng.pick(model.members).upn, TargetUserOrGroupType: 'Member' };
    case 'sync-policy':
      return { ItemType: 'DocumentLibrary', ObjectId: `${library.siteUrl}${library.libraryName}` };
    case 'other-workload':
      return {};
  }
}

/**
 * Builds one record. `contentCreatedMs` is the blob's availability time; events are 60–90 minutes
 * older typically and sometimes days older (o365-api.md §2.5, §2.6), and never sorted.
 */
export function buildRecord(rng: Rng, model: TenantModel, contentCreatedMs: number): SyntheticRecord {
  const [operation, recordType, kind] = rng.weighted(OPERATIONS.map((o) => [o, o[3]] as const));
  const lagMs = rng.chance(0.1) ? rng.int(2 * 3600, 72 * 3600) * 1000 : rng.int(20 * 60, 90 * 60) * 1000;
  const id = rng.guid();
  const common = {
    CreationTime: formatCreationTime(contentCreatedMs - lagMs),
    Id: id,
    Operation: operation,
    OrganizationId: model.tenantId,
    RecordType: recordType,
  };
  if (kind === 'other-workload') {
    // A record from another workload inside an Audit.SharePoint blob: connectors must filter it, counted.
    const member = rng.pick(model.members);
    return { ...common, UserKey: rng.guid(), UserType: 0, Version: 1, Workload: 'AzureActiveDirectory', ClientIP: ipAddress(rng), ObjectId: 'Unknown', UserId: member.upn, AzureActiveDirectoryEventType: 1, ResultStatus: 'Success' };
  }
  const actor = pickActor(rng, model, kind);
  const library = pickLibrary(rng, model, actor);
  const record: SyntheticRecord = {
    ...common,
    UserKey: actor.userKey,
    UserType: actor.userType,
    Version: 1,
    Workload: library.personal ? 'OneDrive' : 'SharePoint',
    UserId: actor.userId,
    CorrelationId: rng.guid(),
    EventSource: 'SharePoint',
    ...agentFields(rng, actor, kind),
    ...libraryFields(rng, library),
    ...kindFields(rng, model, operation, kind, library),
  };
  if (rng.chance(0.3)) record['DoNotDistributeEvent'] = rng.chance(0.2) ? 'False' : false;
  if (rng.chance(0.05)) record['UnknownFutureField'] = { addedBy: 'simulator', value: rng.int(0, 9) };
  if (rng.chance(0.15)) record['AppAccessContext'] = { AADSessionId: rng.guid(), CorrelationId: record.CorrelationId, UniqueTokenId: rng.hex(22) };
  return record;
}
