import type { DriveType, OwnerIndex } from '../../contracts/file-event.ts';
import { splitUrl } from './paths.ts';
import { EMAIL } from './fields.ts';

/**
 * Personal OneDrive vs SharePoint site, and the drive's owner (reference/schema.md §5).
 *
 * A OneDrive is `https://<tenant>[geo]-my.sharepoint.<tld>/personal/<segment>/…` — host AND path:
 * the -my host also serves non-drive paths (`/User Photos/…`), which are `site`. Sovereign clouds
 * use other TLDs (`.sharepoint.us`, `.sharepoint.cn`, `.sharepoint-mil.us`), Multi-Geo adds the geo
 * to the tenant label (`contosoeur-my`).
 */
const PERSONAL_HOST = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?-my\.sharepoint(?:-mil)?\.[a-z]{2,}(?:\.[a-z]{2,})?$/;
const SHAREPOINT_HOST = /(?:^|\.)sharepoint(?:-mil)?\.[a-z]{2,}(?:\.[a-z]{2,})?$/;

export interface DriveInfo {
  driveType: DriveType;
  personalSiteSegment: string | null;
}

/** Classifies one URL; null when its host is not SharePoint's (anonymised, vanity or on-premises). */
export function classifyUrl(url: string): DriveInfo | null {
  const { host, segments } = splitUrl(url);
  if (!SHAREPOINT_HOST.test(host)) return null;
  const [first, segment] = segments;
  if (PERSONAL_HOST.test(host) && first?.toLowerCase() === 'personal' && segment !== undefined) {
    return { driveType: 'personal', personalSiteSegment: segment.toLowerCase() };
  }
  return { driveType: 'site', personalSiteSegment: null };
}

/**
 * The drive of a record: the first of ObjectId and SiteUrl on a SharePoint host decides. When
 * neither is (anonymised samples use `https://example.com/`), the host rule cannot apply and the
 * record's Workload is the only evidence left: `OneDrive` means a personal drive, segment unknown.
 */
export function classifyDrive(urls: readonly (string | null)[], workload: string): DriveInfo {
  for (const url of urls) {
    if (url === null) continue;
    const info = classifyUrl(url);
    if (info !== null) return info;
  }
  return { driveType: workload.toLowerCase() === 'onedrive' ? 'personal' : 'site', personalSiteSegment: null };
}

/**
 * The personal-site segment SharePoint derives from a UPN: lower-cased, every character other than
 * a-z, 0-9 and `-` replaced by `_` (`asr@testsiem.onmicrosoft.com` → `asr_testsiem_onmicrosoft_com`).
 * Many UPNs can collapse to one segment, so this only ever runs forwards, never reversed.
 */
export function segmentOf(upn: string): string {
  return upn.toLowerCase().replace(/[^a-z0-9-]/g, '_');
}

/**
 * The drive owner, only when safe: the owner index (from the directory) first; else the actor when
 * the actor is a member whose UPN maps to exactly this segment. Otherwise null — the segment stays
 * in `o365.personalSiteSegment` for later enrichment.
 */
export function ownerOf(
  drive: DriveInfo,
  actor: { email: string | null; actorKind: string },
  ownerIndex: OwnerIndex | undefined,
): string | null {
  const segment = drive.personalSiteSegment;
  if (drive.driveType !== 'personal' || segment === null) return null;
  let indexed: unknown;
  try {
    indexed = ownerIndex?.get(segment);
  } catch {
    indexed = undefined; // a failing index must not fail the record
  }
  if (typeof indexed === 'string' && EMAIL.test(indexed)) return indexed.toLowerCase();
  if (actor.actorKind === 'user' && actor.email !== null && segmentOf(actor.email) === segment) return actor.email;
  return null;
}
