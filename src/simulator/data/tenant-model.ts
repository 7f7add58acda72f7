import { rngFor } from '../prng.ts';
import { FIRST_NAMES, GUEST_DOMAINS, LAST_NAMES, SITE_NAMES } from './vocabulary.ts';

/** A document library a record can point into: a personal OneDrive or an organisation site. */
export interface Library {
  personal: boolean;
  /** Site URL with a trailing slash, e.g. https://contoso-my.sharepoint.com/personal/anna_smith_contoso_onmicrosoft_com/ */
  siteUrl: string;
  /** `Documents` on personal sites, `Shared Documents` on organisation sites (o365-api.md §4.8). */
  libraryName: string;
  siteId: string;
  webId: string;
  listId: string;
}

export interface Member {
  upn: string;
  /** SharePoint UserKey of a member: `i:0h.f|membership|<puid>@live.com` (o365-api.md §4.1). */
  userKey: string;
  personal: Library;
}

/** The people and sites of one synthetic tenant, derived from (seed, tenant id) only. */
export interface TenantModel {
  tenantId: string;
  /** The short name used in hosts: `<name>.sharepoint.com`, `<name>-my.sharepoint.com`. */
  name: string;
  domain: string;
  members: Member[];
  guests: string[];
  sites: Library[];
}

/** `anna.smith@contoso.onmicrosoft.com` → `anna_smith_contoso_onmicrosoft_com` (o365-api.md §4.8). */
export function personalSegment(upn: string): string {
  return upn.replace(/[@.]/g, '_');
}

function asciiLocalPart(text: string): string {
  // UPNs are ASCII in practice; display names (and file names) carry the unicode.
  return text.normalize('NFKD').replace(/[^a-zA-Z0-9]/g, '');
}

export function buildTenantModel(seed: string, tenantId: string, name: string): TenantModel {
  const rng = rngFor(seed, tenantId, 'model');
  const domain = `${name}.onmicrosoft.com`;
  const members: Member[] = [];
  const used = new Set<string>();
  const memberCount = rng.int(6, 14);
  while (members.length < memberCount) {
    const upn = `${asciiLocalPart(rng.pick(FIRST_NAMES))}.${asciiLocalPart(rng.pick(LAST_NAMES))}@${domain}`;
    if (used.has(upn)) continue;
    used.add(upn);
    const siteUrl = `https://${name}-my.sharepoint.com/personal/${personalSegment(upn)}/`;
    members.push({
      upn,
      userKey: `i:0h.f|membership|${rng.hex(16)}@live.com`,
      personal: { personal: true, siteUrl, libraryName: 'Documents', siteId: rng.guid(), webId: rng.guid(), listId: rng.guid() },
    });
  }
  const guests = GUEST_DOMAINS.map((d, i) => `urn:spo:guest#${asciiLocalPart(rng.pick(FIRST_NAMES))}${i}@${d}`);
  const sites = SITE_NAMES.slice(0, rng.int(2, SITE_NAMES.length)).map((site) => ({
    personal: false,
    siteUrl: `https://${name}.sharepoint.com/sites/${asciiLocalPart(site)}/`,
    libraryName: 'Shared Documents',
    siteId: rng.guid(),
    webId: rng.guid(),
    listId: rng.guid(),
  }));
  return { tenantId, name, domain, members, guests, sites };
}
