import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FileEvent } from '../../../src/contracts/file-event.ts';
import { knownOperations } from '../../../src/transform/normalize/operations.ts';
import { normalize } from '../../../src/transform/normalize/index.ts';
import { schemaErrors } from './schema-validator.ts';

const context = { tenantId: 'tenant', now: () => new Date('2025-01-01T00:00:00Z') };

function validEvent(): FileEvent {
  const result = normalize(
    {
      Id: 'e1',
      RecordType: 6,
      CreationTime: '2024-01-02T03:04:05',
      Operation: 'FileDownloaded',
      Workload: 'OneDrive',
      UserId: 'a@b.com',
      ObjectId: 'https://t-my.sharepoint.com/personal/a_b_com/Documents/x.pdf',
      ClientIP: '1.2.3.4',
    },
    context,
  );
  if (result.kind !== 'event') throw new Error('fixture must be an event');
  return result.event;
}

describe('file-event.v1.json', () => {
  it('accepts a normal event', () => {
    expect(schemaErrors(validEvent())).toBeNull();
  });

  it.each([
    ['an unknown action', (e: FileEvent) => Object.assign(e.event, { action: 'file-teleported' })],
    ['a timestamp without a zone', (e: FileEvent) => Object.assign(e, { '@timestamp': '2024-01-02T03:04:05' })],
    ['an extra top-level field', (e: FileEvent) => Object.assign(e, { extra: 1 })],
    ['an extra o365 field', (e: FileEvent) => Object.assign(e.o365, { raw: {} })],
    ['a missing file.owner', (e: FileEvent) => delete (e.file as Partial<FileEvent['file']>).owner],
    ['a directory without trailing slash', (e: FileEvent) => Object.assign(e.file, { directory: '/a/b' })],
    ['an invalid IP', (e: FileEvent) => Object.assign(e.source, { ip: '999.1.1.1' })],
    ['an app with an email', (e: FileEvent) => Object.assign(e.user, { actorKind: 'app' })],
    ['an unknown drive type', (e: FileEvent) => Object.assign(e.o365, { driveType: 'unknown' })],
    ['a site with a personal segment', (e: FileEvent) => Object.assign(e.o365, { driveType: 'site' })],
    ['a wrong schema version', (e: FileEvent) => Object.assign(e, { schemaVersion: '2' })],
  ])('rejects %s', (_name, breakIt) => {
    const event = validEvent();
    breakIt(event);
    expect(schemaErrors(event)).not.toBeNull();
  });

  it('every event from generated records validates', () => {
    const operations = [...knownOperations().keys()];
    const text = fc.string({ maxLength: 12 });
    const record = fc.record({
      Id: fc.uuid(),
      RecordType: fc.constantFrom(4, 6, 14, '6', '14'),
      CreationTime: fc.date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 19)),
      Operation: fc.constantFrom(...operations),
      Workload: fc.constantFrom('OneDrive', 'SharePoint'),
      UserType: fc.constantFrom(0, 4, 5, 6, 10, '0'),
      UserId: fc.oneof(fc.emailAddress(), fc.constantFrom('app@sharepoint', 'SHAREPOINT\\system', 'urn:spo:guest#g@x.com', 'user1'), text),
      ObjectId: fc.tuple(
        fc.constantFrom('https://contoso-my.sharepoint.com/personal/a_contoso_com/', 'https://contoso.sharepoint.com/sites/S/', 'https://example.com/', 'host/'),
        fc.array(fc.oneof(text, fc.webSegment()), { maxLength: 4 }),
      ).map(([root, parts]) => root + parts.join('/')),
      SiteUrl: fc.option(fc.constantFrom('https://contoso-my.sharepoint.com/personal/a_contoso_com', 'https://contoso.sharepoint.us/sites/S/')),
      SourceRelativeUrl: fc.option(text),
      SourceFileName: fc.option(text),
      DestinationFileName: fc.option(text),
      DestinationRelativeUrl: fc.option(text),
      ClientIP: fc.oneof(fc.ipV4(), fc.ipV6(), text),
      ItemType: fc.constantFrom('File', 'Folder', 'Web', undefined),
      TargetUserOrGroupName: fc.option(fc.oneof(fc.emailAddress(), text)),
      TargetUserOrGroupType: fc.option(fc.constantFrom('Member', 'Guest', 'SharePointGroup')),
      FileSizeBytes: fc.option(fc.oneof(fc.integer(), fc.double(), text)),
      IsManagedDevice: fc.option(fc.oneof(fc.boolean(), fc.constantFrom('True', 'False'), text)),
    });
    let events = 0;
    fc.assert(
      fc.property(record, (input) => {
        const result = normalize(input, context);
        if (result.kind === 'event') {
          events += 1;
          expect(schemaErrors(result.event)).toBeNull();
        }
      }),
      { numRuns: 3000 },
    );
    expect(events).toBeGreaterThan(300);
  });

  it('never throws on arbitrary JSON, and always returns one of the three outcomes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('Id', 'Operation', 'CreationTime', 'RecordType', 'Workload', 'ObjectId', 'UserId', 'ClientIP', 'SiteUrl', 'SourceFileName'), fc.jsonValue())), (input) => {
        const result = normalize(input, context);
        expect(['event', 'filtered', 'rejected']).toContain(result.kind);
        if (result.kind === 'event') expect(schemaErrors(result.event)).toBeNull();
      }),
      { numRuns: 5000 },
    );
  });
});
