/**
 * Word lists for synthetic records. Operation names and their RecordType pairing follow
 * reference/o365-api.md §4.1 ("Observed pairing") and §4.7; user agents and field shapes follow §4.5;
 * actor identities follow §4.6. Everything else (names, weights) is made up to look plausible.
 */

export type OperationKind = 'file' | 'file-destination' | 'sync' | 'sharing' | 'folder' | 'page' | 'list' | 'group' | 'sync-policy' | 'other-workload';

/** [operation, RecordType, kind, weight]. Weights are relative frequencies in a synthetic blob. */
export const OPERATIONS: readonly (readonly [string, number, OperationKind, number])[] = [
  ['FileAccessed', 6, 'file', 14],
  ['FileAccessedExtended', 6, 'file', 2],
  ['FilePreviewed', 6, 'file', 6],
  ['FileDownloaded', 6, 'file', 8],
  ['FileUploaded', 6, 'file', 8],
  ['FileModified', 6, 'file', 10],
  ['FileModifiedExtended', 6, 'file', 3],
  ['FileDeleted', 6, 'file', 3],
  ['FileRecycled', 6, 'file', 3],
  ['FileDeletedFirstStageRecycleBin', 6, 'file', 1],
  ['FileDeletedSecondStageRecycleBin', 6, 'file', 1],
  ['FileRestored', 6, 'file', 1],
  ['FileRenamed', 6, 'file-destination', 2],
  ['FileMoved', 6, 'file-destination', 2],
  ['FileCopied', 6, 'file-destination', 2],
  ['FileSyncDownloadedFull', 6, 'sync', 4],
  ['FileSyncUploadedFull', 6, 'sync', 4],
  ['SharingSet', 14, 'sharing', 2],
  ['AnonymousLinkCreated', 14, 'sharing', 1],
  ['AnonymousLinkUsed', 14, 'sharing', 1],
  ['SecureLinkCreated', 14, 'sharing', 1],
  ['AddedToSecureLink', 14, 'sharing', 1],
  ['CompanyLinkCreated', 14, 'sharing', 1],
  ['SharingInvitationCreated', 14, 'sharing', 1],
  ['SharingRevoked', 14, 'sharing', 0.5],
  ['FolderCreated', 6, 'folder', 2],
  ['FolderModified', 6, 'folder', 1],
  ['FolderRenamed', 6, 'folder', 0.5],
  ['FolderDeleted', 6, 'folder', 0.5],
  ['PageViewed', 4, 'page', 4],
  ['ListViewed', 36, 'list', 2],
  ['AddedToGroup', 14, 'group', 1],
  ['ManagedSyncClientAllowed', 4, 'sync-policy', 1],
  ['UserLoggedIn', 15, 'other-workload', 1],
];

export const FIRST_NAMES = ['anna', 'bruno', 'chloé', 'dmitri', 'elif', 'françois', 'grace', 'hiro', 'ines', 'jürgen', 'kofi', 'lena', 'mateo', 'noor', 'oskar', 'priya', 'zoë', 'wei'];
export const LAST_NAMES = ['smith', 'müller', 'garcía', 'nakamura', 'okafor', "o'brien", 'kowalski', 'dubois', 'larsen', 'chen', 'rossi', 'nguyen'];
export const GUEST_DOMAINS = ['partner.example', 'contractor.example.org', 'gmail.example.net'];
export const SITE_NAMES = ['Finance', 'Marketing', 'Engineering', 'HR-Team', 'Projekt Ährenfeld', 'Legal'];

export const FOLDERS = ['', '', '', 'Projects', 'Projects/2025', 'Reports/Q3', 'Ablage/Verträge', 'Shared with team', 'Photos/Screenshots'];

export const FILE_STEMS = [
  'Quarterly Report', 'Präsentation Q3', 'Résumé – final', '売上データ', 'Ünïcödé notes', 'budget 2025 (v2)',
  'Screenshot 2025-01-27 at 11.30.48', '100% done #1', 'Budget%202024', 'ملف العقد', 'Design review', 'Roadmap',
  'Meeting notes', 'Contract draft', 'Invoice 0042', 'Team photo', 'Onboarding checklist', 'Архив',
];
export const FILE_EXTENSIONS = ['docx', 'xlsx', 'pptx', 'pdf', 'png', 'jpg', 'txt', 'zip', 'csv', 'mp4', 'one', 'md'];

export const BROWSER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:128.0) Gecko/20100101 Firefox/128.0',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
];
export const SYNC_AGENTS = [
  'Microsoft SkyDriveSync 23.101.0514.0004 ship; Windows NT 10.0 (19045)',
  'Microsoft SkyDriveSync 24.201.1006.0005 ship; Windows NT 10.0 (22631)',
  'Microsoft SkyDriveSync 24.180.0905.0003 ship; Mac OS X 14.6.1',
];
export const SERVICE_AGENTS = ['OneDriveMpc-Transform_Thumbnail/1.0', 'OneDriveMpc-Transform_Zip/1.0', 'MS Scanner ATP', ''];

export const SHAREPOINT_APP_USER_KEY = 'i:0i.t|00000003-0000-0ff1-ce00-000000000000|app@sharepoint';

export const SHARING_EVENT_DATA = [
  '<Type>Edit</Type>',
  '<Type>Edit</Type><MembersCanShareApplied>False</MembersCanShareApplied>',
  '<Permissions granted>Contribute</Permissions granted>',
  '<Permissions granted>Limited Access</Permissions granted>',
  '<Type>View</Type>',
];

export const GEO_LOCATIONS = ['EUR', 'NAM', 'APC', 'FRA', 'GBR'];
