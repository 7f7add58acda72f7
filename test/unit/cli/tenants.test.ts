import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../../src/cli/program.ts';
import { ADMIN_TOKEN, startAdminWorld } from '../../support/admin.ts';

const A = '11111111-1111-4111-8111-111111111111';
let world: Awaited<ReturnType<typeof startAdminWorld>> | undefined;
let out = '';
let err = '';
beforeEach(() => {
  out = err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => ((out += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => ((err += String(chunk)), true));
  process.exitCode = 0;
});
afterEach(async () => {
  vi.restoreAllMocks();
  process.exitCode = 0;
  await world?.close();
  world = undefined;
});

async function cli(...args: string[]): Promise<number> {
  process.exitCode = 0;
  out = err = '';
  await buildProgram().parseAsync(['node', 'onedrive-connector', 'tenants', '--url', world?.url ?? '', '--token-env', 'TEST_ADMIN_TOKEN', ...args]);
  return Number(process.exitCode ?? 0);
}

describe('onedrive-connector tenants …', () => {
  it('adds, lists, pauses, resumes, deauthorizes and shows history through the admin API', async () => {
    world = await startAdminWorld();
    process.env['TEST_ADMIN_TOKEN'] = ADMIN_TOKEN;
    expect(await cli('add', A, '--display-name', 'Contoso', '--plan', 'E5')).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ id: A, status: { state: 'PendingConsent' } });
    expect(await cli('consent-url', A)).toBe(0);
    expect(JSON.parse(out).url).toContain('/v2.0/adminconsent');
    await cli('pause', A);
    await cli('resume', A);
    await cli('deauthorize', A);
    expect(await cli('show', A)).toBe(0);
    expect((JSON.parse(out) as { history: Array<{ to: string }> }).history.map((h) => h.to)).toEqual(['Paused', 'PendingConsent', 'Deauthorized']);
    expect(await cli('list')).toBe(0);
    expect(JSON.parse(out).tenants).toHaveLength(1);
  });

  it('prints every problem and exits 1 on an error answer, and on a wrong token', async () => {
    world = await startAdminWorld();
    process.env['TEST_ADMIN_TOKEN'] = ADMIN_TOKEN;
    expect(await cli('add', 'not-a-guid', '--cloud', 'mars')).toBe(1);
    expect(err).toMatch(/HTTP 400 INVALID_BODY/);
    expect(err).toMatch(/- id: must be a GUID/);
    expect(err).toMatch(/- cloud:/);
    expect(await cli('show', A)).toBe(1);
    expect(err).toMatch(/HTTP 404 TENANT_NOT_FOUND/);
    process.env['TEST_ADMIN_TOKEN'] = 'wrong';
    expect(await cli('list')).toBe(1);
    expect(err).toMatch(/HTTP 401/);
  });
});
