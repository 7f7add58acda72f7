import type { FileAction, FilterReason } from '../../contracts/file-event.ts';

/**
 * Operation → what the normalizer does with it. The full table, with the reasons, is README.md in
 * this folder; keep the two in step. Lookups are exact (Microsoft's operation names are stable
 * PascalCase strings), so an unknown spelling is counted as `unknown-operation`, never guessed.
 */
export type OperationClass =
  | { kind: 'file'; action: FileAction; sharing: boolean }
  | { kind: 'filtered'; reason: FilterReason };

const ACTIONS: Readonly<Record<FileAction, readonly string[]>> = {
  'file-uploaded': ['FileUploaded', 'FileSyncUploadedFull'],
  'file-downloaded': ['FileDownloaded', 'FileSyncDownloadedFull'],
  'file-modified': ['FileModified', 'FileModifiedExtended'],
  'file-deleted': ['FileDeleted', 'FileRecycled', 'FileDeletedFirstStageRecycleBin', 'FileDeletedSecondStageRecycleBin'],
  'file-renamed': ['FileRenamed'],
  'file-moved': ['FileMoved'],
  'file-copied': ['FileCopied'],
  'file-restored': ['FileRestored'],
  'file-accessed': ['FileAccessed', 'FileAccessedExtended', 'AnonymousLinkUsed', 'CompanyLinkUsed', 'SecureLinkUsed'],
  'file-previewed': ['FilePreviewed'],
  'file-shared': [
    'SharingSet',
    'AnonymousLinkCreated',
    'AnonymousLinkUpdated',
    'CompanyLinkCreated',
    'SecureLinkCreated',
    'AddedToSecureLink',
    'SharingInvitationCreated',
    'SharedLinkCreated',
  ],
  'file-unshared': [
    'SharingRevoked',
    'AnonymousLinkRemoved',
    'CompanyLinkRemoved',
    'SecureLinkDeleted',
    'RemovedFromSecureLink',
    'SharingInvitationRevoked',
    'SharedLinkDisabled',
  ],
};

/** Operations about sharing links and grants: their ItemType decides whether a file is concerned. */
const SHARING_OPERATIONS = new Set([
  ...ACTIONS['file-shared'],
  ...ACTIONS['file-unshared'],
  'AnonymousLinkUsed',
  'CompanyLinkUsed',
  'SecureLinkUsed',
]);

const FILTERED: Readonly<Partial<Record<FilterReason, readonly string[]>>> = {
  'folder-operation': [
    'FolderCopied',
    'FolderCreated',
    'FolderDeleted',
    'FolderDeletedFirstStageRecycleBin',
    'FolderDeletedSecondStageRecycleBin',
    'FolderModified',
    'FolderMoved',
    'FolderRecycled',
    'FolderRenamed',
    'FolderRestored',
  ],
  'page-or-list-view': ['PageViewed', 'PageViewedExtended', 'PagePrefetched', 'ClientViewSignaled', 'ListViewed'],
  'site-administration': [
    'AddedToGroup',
    'RemovedFromGroup',
    'GroupAdded',
    'GroupRemoved',
    'GroupUpdated',
    'SharingInheritanceBroken',
    'SharingInheritanceReset',
    'PermissionLevelAdded',
    'PermissionLevelModified',
    'PermissionLevelRemoved',
    'PermissionLevelsInheritanceBroken',
    'SiteCollectionAdminAdded',
    'SiteCollectionAdminRemoved',
    'SiteAdminChangeRequest',
    'SiteCollectionCreated',
    'SitePermissionsModified',
    'WebRequestAccessModified',
    'WebMembersCanShareModified',
    'HostSiteSet',
  ],
  'sharing-administration': [
    'AccessRequestAccepted',
    'AccessRequestApproved',
    'AccessRequestCreated',
    'AccessRequestDenied',
    'AccessRequestRejected',
    'AccessRequestUpdated',
    'AccessInvitationAccepted',
    'AccessInvitationCreated',
    'AccessInvitationExpired',
    'AccessInvitationRevoked',
    'AccessInvitationUpdated',
    'SharingInvitationAccepted',
    'SharingInvitationBlocked',
    'SharingInvitationUpdated',
  ],
  'not-a-file-operation': [
    'FileCheckedIn',
    'FileCheckedOut',
    'FileCheckOutDiscarded',
    'FileMalwareDetected',
    'FileVersionRecycled',
    'FileVersionsAllMinorsRecycled',
    'FileVersionsAllRecycled',
    'FileFetched',
    'FileViewed',
    'FileSyncDownloadedPartial',
    'FileSyncUploadedPartial',
    'FileSensitivityLabelApplied',
    'FileSensitivityLabelChanged',
    'FileSensitivityLabelRemoved',
    'SensitivityLabelApplied',
    'SensitivityLabelUpdated',
    'SensitivityLabelRemoved',
    'DocumentSensitivityMismatchDetected',
    'ComplianceSettingChanged',
    'LockRecord',
    'UnlockRecord',
    'RecordDelete',
    'SearchQueryPerformed',
    'ManagedSyncClientAllowed',
    'UnmanagedSyncClientBlocked',
    'SyncGetChanges',
    'DLPRuleMatch',
    'DLPRuleUndo',
  ],
};

const TABLE = new Map<string, OperationClass>();
for (const [action, operations] of Object.entries(ACTIONS) as [FileAction, readonly string[]][]) {
  for (const operation of operations) {
    TABLE.set(operation, { kind: 'file', action, sharing: SHARING_OPERATIONS.has(operation) });
  }
}
for (const [reason, operations] of Object.entries(FILTERED) as [FilterReason, readonly string[]][]) {
  for (const operation of operations) TABLE.set(operation, { kind: 'filtered', reason });
}

export function classifyOperation(operation: string): OperationClass {
  return TABLE.get(operation) ?? { kind: 'filtered', reason: 'unknown-operation' };
}

/** The workloads whose records can be OneDrive/SharePoint file activity. */
export function isFileWorkload(workload: string): boolean {
  const lowered = workload.toLowerCase();
  return lowered === 'onedrive' || lowered === 'sharepoint';
}

/** Every operation the tables know, for documentation tests. */
export function knownOperations(): ReadonlyMap<string, OperationClass> {
  return TABLE;
}
