import { describe, expect, it } from 'vitest';
import { resolveActor } from '../../../src/transform/normalize/actor.ts';
import { categoryOf } from '../../../src/transform/normalize/category.ts';
import { classifyDrive, classifyUrl, ownerOf, segmentOf } from '../../../src/transform/normalize/drive.ts';
import { boolean, integer, parseCreationTime } from '../../../src/transform/normalize/fields.ts';
import { normalizeIp } from '../../../src/transform/normalize/ip.ts';
import { classifyOperation } from '../../../src/transform/normalize/operations.ts';
import { applyDestination, locateFile, splitUrl } from '../../../src/transform/normalize/paths.ts';

describe('drive type', () => {
  it.each([
    ['https://contoso-my.sharepoint.com/personal/a_contoso_com/Documents/x.docx', 'personal', 'a_contoso_com'],
    ['https://contosoeur-my.sharepoint.com/personal/a_contoso_com/Documents/x.docx', 'personal', 'a_contoso_com'],
    ['https://contoso-my.sharepoint.us/personal/a_contoso_com/x', 'personal', 'a_contoso_com'],
    ['https://contoso-my.sharepoint-mil.us/personal/a_contoso_com/x', 'personal', 'a_contoso_com'],
    ['https://contoso-my.sharepoint.cn/personal/a_contoso_com/x', 'personal', 'a_contoso_com'],
    ['HTTPS://Contoso-MY.SharePoint.COM/Personal/A_Contoso_Com/Documents/x', 'personal', 'a_contoso_com'],
    ['https://contoso-my.sharepoint.com./personal/a_contoso_com', 'personal', 'a_contoso_com'],
    ['https://contoso-my.sharepoint.com/personal/a_contoso_com', 'personal', 'a_contoso_com'],
    ['https://contoso-my.sharepoint.com:443/personal/a_contoso_com/', 'personal', 'a_contoso_com'],
    ['https://contoso-my.sharepoint.com/personal/', 'site', null],
    ['https://contoso-my.sharepoint.com/User Photos/Profile Pictures/a.jpg', 'site', null],
    ['https://contoso-my.sharepoint.com/', 'site', null],
    ['https://contoso.sharepoint.com/personal/a_contoso_com/x', 'site', null],
    ['https://contoso.sharepoint.com/sites/Finance/Shared Documents/x.xlsx', 'site', null],
    ['https://contoso.sharepoint.com/teams/T/x', 'site', null],
  ])('%s → %s', (url, driveType, segment) => {
    expect(classifyUrl(url)).toEqual({ driveType, personalSiteSegment: segment });
  });

  it('ignores hosts that are not SharePoint, even with a -my label or /personal/ path', () => {
    expect(classifyUrl('https://contoso-my.sharepoint.com.evil.example/personal/a/x')).toBeNull();
    expect(classifyUrl('https://abc.com/personal/asr_testsiem_t_com/x')).toBeNull();
    expect(classifyUrl('https://example.com/')).toBeNull();
  });

  it('falls back from ObjectId to SiteUrl, then to the Workload', () => {
    expect(classifyDrive(['https://example.com/', 'https://t-my.sharepoint.com/personal/s/'], 'OneDrive')).toEqual({ driveType: 'personal', personalSiteSegment: 's' });
    expect(classifyDrive(['https://example.com/', null], 'OneDrive')).toEqual({ driveType: 'personal', personalSiteSegment: null });
    expect(classifyDrive(['https://example.com/', null], 'SharePoint')).toEqual({ driveType: 'site', personalSiteSegment: null });
    // A SharePoint URL wins over the Workload.
    expect(classifyDrive(['https://t-my.sharepoint.com/User Photos/x.jpg'], 'OneDrive').driveType).toBe('site');
  });
});

describe('drive owner', () => {
  const personal = { driveType: 'personal' as const, personalSiteSegment: 'first_last_contoso_com' };
  const member = { email: 'first.last@contoso.com', actorKind: 'user' };

  it('applies the segment rule forwards only', () => {
    expect(segmentOf('First.Last@Contoso.com')).toBe('first_last_contoso_com');
    expect(segmentOf('a-b_c@x.y')).toBe('a-b_c_x_y');
  });

  it('uses the owner index first, then the actor when their UPN maps to the segment', () => {
    expect(ownerOf(personal, { email: 'other@contoso.com', actorKind: 'user' }, new Map([['first_last_contoso_com', 'First.Last@contoso.com']]))).toBe('first.last@contoso.com');
    expect(ownerOf(personal, member, undefined)).toBe('first.last@contoso.com');
  });

  it('is null when nothing safe is known — never a reversed segment', () => {
    expect(ownerOf(personal, { email: 'someone@contoso.com', actorKind: 'user' }, undefined)).toBeNull();
    expect(ownerOf(personal, { email: 'first.last@contoso.com', actorKind: 'guest' }, undefined)).toBeNull();
    expect(ownerOf({ driveType: 'site', personalSiteSegment: null }, member, undefined)).toBeNull();
    expect(ownerOf({ driveType: 'personal', personalSiteSegment: null }, member, undefined)).toBeNull();
    const throwing = { get: (): string => { throw new Error('index down'); } };
    expect(ownerOf(personal, { email: 'x@y.z', actorKind: 'user' }, throwing)).toBeNull();
    expect(ownerOf(personal, { email: 'x@y.z', actorKind: 'user' }, new Map([['first_last_contoso_com', 'not an address']]))).toBeNull();
  });
});

describe('actor', () => {
  it.each([
    ['alice@Contoso.com', 0, null, { email: 'alice@contoso.com', actorKind: 'user' }],
    ['urn:spo:guest#John.Doe@example.com', 0, null, { email: 'john.doe@example.com', actorKind: 'guest' }],
    ['john_example.com#EXT#@contoso.onmicrosoft.com', 0, null, { email: 'john_example.com#ext#@contoso.onmicrosoft.com', actorKind: 'guest' }],
    ['g@example.com', 10, null, { email: 'g@example.com', actorKind: 'guest' }],
    ['urn:spo:anon#abc', 0, null, { email: null, actorKind: 'anonymous' }],
    ['app@sharepoint', 0, null, { email: null, actorKind: 'app' }],
    ['someone', 0, 'i:0i.t|00000003-0000-0ff1-ce00-000000000000|app@sharepoint', { email: null, actorKind: 'app' }],
    ['SHAREPOINT\\system', 0, null, { email: null, actorKind: 'system' }],
    ['NT AUTHORITY\\SYSTEM', 0, null, { email: null, actorKind: 'system' }],
    ['svc@contoso.com', 4, null, { email: null, actorKind: 'system' }],
    ['svc@contoso.com', 5, null, { email: null, actorKind: 'app' }],
    ['svc@contoso.com', 6, null, { email: null, actorKind: 'app' }],
    ['user1', 0, null, { email: null, actorKind: 'user' }],
  ])('%s (UserType %s)', (userId, userType, userKey, expected) => {
    expect(resolveActor(userId, userType, userKey)).toEqual({ ...expected, name: userId });
  });
});

describe('paths', () => {
  it('splits URLs without a URL parser (raw spaces, #, %, no scheme)', () => {
    expect(splitUrl('https://h.sharepoint.com/a b/c%20d/e#1.docx')).toEqual({ host: 'h.sharepoint.com', segments: ['a b', 'c d', 'e#1.docx'] });
    expect(splitUrl('partner.acme.com/shared documents/x.xls')).toEqual({ host: 'partner.acme.com', segments: ['shared documents', 'x.xls'] });
    expect(splitUrl('https://h/100%.docx').segments).toEqual(['100%.docx']);
    expect(splitUrl('https://h//personal/x//Sharing Links').segments).toEqual(['personal', 'x', 'Sharing Links']);
  });

  it('prefers a consistent ObjectId, else SiteUrl + SourceRelativeUrl + SourceFileName', () => {
    const site = 'https://t.sharepoint.com/sites/S';
    expect(locateFile({ objectId: `${site}/Docs/a.txt`, siteUrl: site, relativeUrl: 'Docs', fileName: 'a.txt' })).toEqual({ name: 'a.txt', directory: '/sites/S/Docs/' });
    expect(locateFile({ objectId: 'https://example.com/', siteUrl: `${site}/`, relativeUrl: 'Docs/Sub', fileName: 'a.txt' })).toEqual({ name: 'a.txt', directory: '/sites/S/Docs/Sub/' });
    // Sharing records: SourceRelativeUrl ends with the file name.
    expect(locateFile({ objectId: 'https://example.com/', siteUrl: site, relativeUrl: 'Docs/a.txt', fileName: 'a.txt' })).toEqual({ name: 'a.txt', directory: '/sites/S/Docs/' });
    expect(locateFile({ objectId: `${site}/Docs/a.txt`, siteUrl: null, relativeUrl: null, fileName: null })).toEqual({ name: 'a.txt', directory: '/sites/S/Docs/' });
    expect(locateFile({ objectId: 'https://t.sharepoint.com/', siteUrl: null, relativeUrl: null, fileName: null })).toBeNull();
  });

  it('keeps the source as original* on rename/move/copy, and null when the destination is unknown', () => {
    const source = { name: 'a.txt', directory: '/sites/S/Docs/' };
    expect(applyDestination(source, 'https://t.sharepoint.com/sites/S', 'Docs/Old', 'b.txt')).toEqual({ name: 'b.txt', directory: '/sites/S/Docs/Old/', originalName: 'a.txt', originalDirectory: '/sites/S/Docs/' });
    expect(applyDestination(source, 'https://t.sharepoint.com/sites/S', null, 'b.txt')).toMatchObject({ name: 'b.txt', directory: '/sites/S/Docs/' });
    expect(applyDestination(source, null, null, null)).toEqual({ ...source, originalName: null, originalDirectory: null });
  });
});

describe('ip', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    [' 1.2.3.4 ', '1.2.3.4'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['1.2.3.4:443', '1.2.3.4'],
    ['[2001:DB8::1]:443', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['2001:db8::1', '2001:db8::1'],
    ['', null],
    ['host.example.com', null],
    ['999.1.1.1', null],
    ['fe80::1%eth0', null],
    [42, null],
    [null, null],
  ])('%s → %s', (input, expected) => {
    expect(normalizeIp(input)).toBe(expected);
  });
});

describe('fields', () => {
  it('reads CreationTime as UTC unless a zone is given', () => {
    expect(parseCreationTime('2020-02-07T16:44:07')).toBe('2020-02-07T16:44:07.000Z');
    expect(parseCreationTime('2020-02-07T16:44:07Z')).toBe('2020-02-07T16:44:07.000Z');
    expect(parseCreationTime('2020-02-07T16:44:07.5-05:30')).toBe('2020-02-07T22:14:07.500Z');
    expect(parseCreationTime('2020-02-30T00:00:00')).toBeNull();
    expect(parseCreationTime('2020-02-07 16:44:07')).toBeNull();
    expect(parseCreationTime('2020-02-07T24:00:00')).toBeNull();
    expect(parseCreationTime('2020-02-07T16:44:07+25:00')).toBeNull();
  });

  it('tolerates string-typed numbers and booleans', () => {
    expect(integer({ a: '6' }, 'a')).toBe(6);
    expect(integer({ a: 6.5 }, 'a')).toBeNull();
    expect(boolean({ a: 'True' }, 'a')).toBe(true);
    expect(boolean({ a: 'no' }, 'a')).toBeNull();
  });
});

describe('operations and categories', () => {
  it('maps operations per the documented table', () => {
    expect(classifyOperation('FileSyncUploadedFull')).toEqual({ kind: 'file', action: 'file-uploaded', sharing: false });
    expect(classifyOperation('SecureLinkUsed')).toEqual({ kind: 'file', action: 'file-accessed', sharing: true });
    expect(classifyOperation('FolderRenamed')).toEqual({ kind: 'filtered', reason: 'folder-operation' });
    expect(classifyOperation('fileuploaded')).toEqual({ kind: 'filtered', reason: 'unknown-operation' });
  });

  it('categorises by extension', () => {
    expect(categoryOf('a.DOCX', null)).toBe('Document');
    expect(categoryOf('noext', 'xlsx')).toBe('Spreadsheet');
    expect(categoryOf('a.unknownext', null)).toBeNull();
  });
});

describe('README table', () => {
  it('names every operation the normalizer knows', async () => {
    const { readFileSync } = await import('node:fs');
    const { knownOperations } = await import('../../../src/transform/normalize/operations.ts');
    const readme = readFileSync(new URL('../../../src/transform/normalize/README.md', import.meta.url), 'utf8');
    const missing = [...knownOperations().keys()].filter((operation) => !new RegExp(`\\b${operation}\\b`).test(readme));
    expect(missing).toEqual([]);
  });
});
