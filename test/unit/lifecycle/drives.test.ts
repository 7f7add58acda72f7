import { describe, expect, it } from 'vitest';
import type { FileEvent } from '../../../src/contracts/file-event.ts';
import { DriveIndex, driveKey, type DriveDiscovered } from '../../../src/lifecycle/drives.ts';

const T = 'tenant-1';
function event(o365: Partial<FileEvent['o365']>, file: Partial<FileEvent['file']> = {}, at = '2026-12-01T10:00:00.000Z'): FileEvent {
  return {
    '@timestamp': at,
    file: { cloudDriveId: null, owner: null, ...file },
    o365: { tenantId: T, driveType: 'site', personalSiteSegment: null, siteUrl: null, ...o365 },
  } as unknown as FileEvent;
}

describe('new drives', () => {
  const personal = event({ driveType: 'personal', personalSiteSegment: 'adele_contoso_com', siteUrl: 'https://contoso-my.sharepoint.com/personal/adele_contoso_com/' }, { owner: 'adele@contoso.com' });
  const library = event({ siteUrl: 'https://contoso.sharepoint.com/sites/hr/' }, { cloudDriveId: 'spo:s1:w1:l1' });
  const siteOnly = event({ siteUrl: 'https://contoso.sharepoint.com/sites/Legal/' });

  it('keys personal drives by segment, libraries by drive id, else by site', () => {
    expect(driveKey(personal)).toBe(`${T}|personal|adele_contoso_com`);
    expect(driveKey(library)).toBe(`${T}|spo:s1:w1:l1`);
    expect(driveKey(siteOnly)).toBe(`${T}|site|https://contoso.sharepoint.com/sites/legal`);
    expect(driveKey(event({}))).toBeUndefined();
  });

  it('announces each drive once, with its first event, and nothing the drives topic already holds', () => {
    const seen: DriveDiscovered[] = [];
    const index = new DriveIndex('drives', (d) => seen.push(d));
    index.remember(`${T}|spo:s1:w1:l1`);
    const first = index.forEvents(T, [personal, library, event(personal.o365, personal.file, '2026-12-01T11:00:00.000Z'), siteOnly]);
    expect(first.map((r) => r.key)).toEqual([`${T}|personal|adele_contoso_com`, `${T}|site|https://contoso.sharepoint.com/sites/legal`]);
    expect(JSON.parse(first[0]?.value ?? '{}')).toEqual({ key: `${T}|personal|adele_contoso_com`, type: 'personal', owner: 'adele@contoso.com', siteUrl: 'https://contoso-my.sharepoint.com/personal/adele_contoso_com/', firstSeen: '2026-12-01T10:00:00.000Z', tenantId: T });
    expect(first.every((r) => r.topic === 'drives')).toBe(true);
    expect(index.forEvents(T, [personal, library, siteOnly])).toEqual([]);
    expect(seen.map((d) => d.type)).toEqual(['personal', 'site']);
  });
});
