/**
 * Conformance over the real public records in ../shared/samples (not copied into the project: some
 * carry their own licences). Folder: $SAMPLES_DIR, default <repo>/../shared/samples.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { FileEvent, NormalizeResult } from '../../../src/contracts/file-event.ts';
import { fromFile, parseRecords } from '../../../src/parse/records.ts';
import { normalize } from '../../../src/transform/normalize/index.ts';
import { schemaErrors } from './schema-validator.ts';

const repoRoot = resolve(fileURLToPath(new URL('../../../', import.meta.url)));
const samplesDir = process.env.SAMPLES_DIR ?? join(repoRoot, '..', 'shared', 'samples');
const present = existsSync(samplesDir);
const files = present ? readdirSync(samplesDir).filter((name) => name.endsWith('.json')).sort() : [];

/**
 * Rejections we expect, by file and record Id, with why. Anything else rejected fails the test.
 * - elastic-o365-sharepoint.json b2c3d4e5-…: a FileAccessed fixture with no ObjectId, SiteUrl or
 *   SourceFileName at all — no file to name, so it is dead-lettered (missing-field).
 */
const EXPECTED_REJECTIONS = new Map([['elastic-o365-sharepoint.json', new Set(['b2c3d4e5-f6a7-8901-bcde-f12345678901'])]]);

interface Outcome {
  record: Record<string, unknown>;
  result: NormalizeResult;
}

async function normalizeFile(name: string): Promise<Outcome[]> {
  const out: Outcome[] = [];
  for await (const item of parseRecords(fromFile(join(samplesDir, name)))) {
    if (item.kind !== 'record') throw new Error(`${name}: ${item.detail}`);
    out.push({ record: item.value as Record<string, unknown>, result: normalize(item.value, { tenantId: 't', now: () => new Date(0) }) });
  }
  return out;
}

function eventById(outcomes: Outcome[], id: string): FileEvent {
  const found = outcomes.find((o) => o.result.kind === 'event' && o.result.event.event.id === id);
  if (found?.result.kind !== 'event') throw new Error(`no event ${id}`);
  return found.result.event;
}

describe('shared samples conformance', () => {
  it.skipIf(!present)(`samples folder ${samplesDir} holds sample files (set SAMPLES_DIR to point elsewhere)`, () => {
    expect(files.length).toBeGreaterThan(0);
  });

  it.skipIf(!present)(`every record in ${samplesDir} is an event, a filtered record or an expected rejection`, async () => {
    let events = 0;
    for (const name of files) {
      for (const { record, result } of await normalizeFile(name)) {
        const where = `${name} ${String(record.Id)} ${String(record.Operation)}`;
        if (result.kind === 'rejected') {
          expect(EXPECTED_REJECTIONS.get(name)?.has(String(record.Id)), `${where}: ${result.detail}`).toBe(true);
        } else if (result.kind === 'filtered') {
          expect(result.reason, where).toMatch(/^[a-z-]+$/);
        } else {
          events += 1;
          expect(schemaErrors(result.event), where).toBeNull();
        }
      }
    }
    expect(events).toBeGreaterThan(20);
  });

  it.skipIf(!present)('non-file samples are all filtered with a reason', async () => {
    const outcomes = [
      ...(await normalizeFile('elastic-o365-sharepoint-nonfile.json')),
      ...(await normalizeFile('microsoft-docs_activity-api-reference_retrieve-content-example.json')),
      ...(await normalizeFile('elastic-beats_o365-audit-test_04-sharepoint.json')),
    ];
    expect(outcomes.map((o) => o.result.kind)).toEqual(outcomes.map(() => 'filtered'));
  });

  it.skipIf(!present)('sekoia guest download: guest address, personal drive, owner unknown', async () => {
    const event = eventById(await normalizeFile('sekoia-io_intake-formats_office365-o365-tests.json'), '609745a8-8ec0-4305-8607-fa95f45cf370');
    expect(event.event.action).toBe('file-downloaded');
    expect(event.user).toEqual({ email: 'john.doe@example.com', actorKind: 'guest', name: 'urn:spo:guest#john.doe@example.com' });
    expect(event.o365.driveType).toBe('personal'); // anonymised host: Workload OneDrive decides
    expect(event.file.owner).toBeNull(); // a guest never owns the drive; the segment is unknown
    expect(event.file).toMatchObject({ name: '1.zip', directory: '/Documents/IMT MBA/', sizeInBytes: 26860827, category: 'Archive' });
    expect(event.event.vector).toBe('DOWNLOADED');
    expect(event.o365.isManagedDevice).toBe(false);
  });

  it.skipIf(!present)('elastic personal upload: owner derived from the actor, segment and paths', async () => {
    const event = eventById(await normalizeFile('elastic-o365-sharepoint.json'), 'dac93a9f-f2fb-4cac-d18f-08d7abecfbb6');
    expect(event['@timestamp']).toBe('2020-02-07T16:44:21.000Z');
    expect(event.file).toMatchObject({
      name: 'Screenshot.png',
      directory: '/personal/asr_testsiem_onmicrosoft_com/Documents/',
      owner: 'asr@testsiem.onmicrosoft.com',
      id: '7f06ab3a-bd98-41d3-a0b2-ad270d71e4d8',
    });
    expect(event.o365).toMatchObject({ driveType: 'personal', personalSiteSegment: 'asr_testsiem_onmicrosoft_com', recordType: 6, userType: 0 });
  });

  it.skipIf(!present)('elastic sharing: anonymous link share; Forms/All.aspx view filtered', async () => {
    const outcomes = await normalizeFile('elastic-beats_o365-audit-test_14-sp-sharing-op.json');
    const shared = eventById(outcomes, '1cb54d72-3a76-4a7c-7b3d-08d7b17b4ec9');
    expect(shared.event).toMatchObject({ action: 'file-shared', shareType: ['Anyone with the link'] });
    expect(shared.file.directory).toBe('/personal/asr_testsiem_onmicrosoft_com/Documents/'); // not …/Screenshot.png/
    const fileOps = await normalizeFile('elastic-beats_o365-audit-test_06-sharepointfileop.json');
    const view = fileOps.find((o) => o.record.Id === '25b08f04-48ee-4755-ce22-08d7abecf3a9');
    expect(view?.result).toEqual({ kind: 'filtered', reason: 'page-or-list-view' });
  });

  it.skipIf(!present)('sumologic FileCopied: destination is file.*, source is file.original*', async () => {
    const [outcome] = await normalizeFile('sumologic-documentation_office-365-app-doc-sample.json');
    expect(outcome?.result.kind).toBe('event');
    if (outcome?.result.kind !== 'event') return;
    expect(outcome.result.event.file).toMatchObject({
      name: 'PurchaseOrder.xls',
      directory: '/my library/',
      originalName: 'PurchaseOrder.xls',
      originalDirectory: '/shared documents/foo/',
    });
    expect(outcome.result.event.user.actorKind).toBe('system'); // UserType 4
  });
});
