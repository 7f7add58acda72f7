/**
 * A record of an Audit.SharePoint content blob, as the Management Activity API serves it.
 * Only the fields the connector reads are named; real records carry many more (kept untyped).
 * Facts: ../shared/reference/o365-api.md §4.
 */
export interface AuditRecord {
  Id?: unknown;
  RecordType?: unknown;
  CreationTime?: unknown;
  Operation?: unknown;
  OrganizationId?: unknown;
  UserType?: unknown;
  UserKey?: unknown;
  UserId?: unknown;
  Workload?: unknown;
  ObjectId?: unknown;
  ClientIP?: unknown;
  [field: string]: unknown;
}

/** One entry of a /subscriptions/content listing page. */
export interface ContentListing {
  contentType: string;
  contentId: string;
  contentUri: string;
  /** ISO 8601 UTC; the availability time the listing filters on. */
  contentCreated: string;
  contentExpiration: string;
}

export const AUDIT_SHAREPOINT = 'Audit.SharePoint';
