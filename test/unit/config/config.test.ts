import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig, resolveSecret } from '../../../src/config/load.ts';
import { configSchema } from '../../../src/config/schema.ts';
import { TENANT, CLIENT_ID, PUBLISHER, MINIMAL_YAML, BROKEN_YAML, configScratch } from '../../support/config-fixtures.ts';

let scratch: Awaited<ReturnType<typeof configScratch>>;
beforeEach(async () => {
  scratch = await configScratch('config-test-');
});
afterEach(async () => {
  await scratch.cleanup();
});
const write = (name: string, text: string): Promise<string> => scratch.write(name, text);

describe('loadConfigFile', () => {
  it('parses a minimal YAML config and fills in the defaults', async () => {
    const config = await loadConfigFile(await write('good.yaml', MINIMAL_YAML));

    expect(config.connector.deliveryMode).toBe('exactly-once');
    expect(config.connector.contentTypes).toEqual(['Audit.SharePoint']);
    expect(config.connector.firstRunLookbackHours).toBe(24);
    expect(config.connector.requestsPerMinute).toBe(2000);
    expect(config.connector.maxWindowHours).toBe(24);
    expect(config.tenants).toEqual([{ id: TENANT, cloud: 'commercial', plan: 'unknown' }]);
    expect(config.kafka.topics).toEqual({ events: 'onedrive.file-events.v1', deadLetter: 'onedrive.dead-letter.v1', cursors: 'onedrive.cursors.v1', publishedIds: 'onedrive.published-ids.v1', registry: 'onedrive.tenants.v1', connectionStatus: 'onedrive.connection-status.v1', drives: 'onedrive.drives.v1', sweepDigests: 'onedrive.sweep-digests.v1' });
    expect(config.connector.sweep).toEqual({ enabled: true, intervalMinutes: 360, startupSpreadSeconds: 600, maxConcurrentBlobs: 2 });
    expect(config.endpoints).toEqual({});
    expect(config.metrics).toEqual({ enabled: true, host: '0.0.0.0', port: 9464, perTenantDetail: false });
    expect(config.log.level).toBe('info');
    expect(config.auth.clientSecret).toEqual({ env: 'ONEDRIVE_CONNECTOR_TEST_SECRET' });
  });

  it('reads JSON too, and trims a trailing slash from endpoint overrides', async () => {
    const raw = {
      connector: { publisherIdentifier: PUBLISHER },
      auth: { clientId: CLIENT_ID, clientSecret: { file: '/run/secrets/client-secret' } },
      endpoints: { apiBaseUrl: 'https://localhost:8443/' },
      tenants: [{ id: TENANT, cloud: 'gcc-high' }],
      kafka: { brokers: ['b1:9092', 'b2:9092'] },
    };
    const config = await loadConfigFile(await write('good.json', JSON.stringify(raw)));
    expect(config.endpoints.apiBaseUrl).toBe('https://localhost:8443');
    expect(config.tenants[0]?.cloud).toBe('gcc-high');
  });

  it('reports every problem at once, each with its path', async () => {
    const error = await loadConfigFile(await write('broken.yaml', BROKEN_YAML)).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems.some((p) => p.startsWith('connector:') && p.includes('pollIntervalSecs'))).toBe(true);
    expect(problems.some((p) => p.startsWith('connector.firstRunLookbackHours:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('tenants.0.id:') && p.includes('GUID'))).toBe(true);
    expect(problems.some((p) => p.startsWith('kafka.brokers:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('auth') && p.includes('exactly one of clientSecret or certificate'))).toBe(true);
    expect(problems).toHaveLength(5);
    // The message an operator reads lists them all.
    for (const problem of problems) expect((error as ConfigError).message).toContain(problem);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
  });

  it('rejects http:// endpoints, duplicate tenants and an unknown cloud', () => {
    const error = (() => {
      try {
        parseConfig({
          connector: { publisherIdentifier: PUBLISHER },
          auth: { clientId: CLIENT_ID, clientSecret: { env: 'X' } },
          endpoints: { apiBaseUrl: 'http://manage.example.test' },
          tenants: [{ id: TENANT }, { id: TENANT.toUpperCase(), cloud: 'mars' }],
          kafka: { brokers: ['b:9092'] },
        });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    expect(problems).toMatch(/endpoints\.apiBaseUrl: must be an https:\/\/ URL/);
    expect(problems).toMatch(/tenants\.1\.cloud:/);
  });

  it('reports an unreadable file and invalid YAML as config problems', async () => {
    await expect(loadConfigFile(join(scratch.directory, 'missing.yaml'))).rejects.toThrow(/cannot read the file/);
    await expect(loadConfigFile(await write('bad.yaml', 'connector: [unclosed'))).rejects.toThrow(/not valid YAML/);
  });
});

describe('resolveSecret', () => {
  it('reads an environment variable, and refuses an unset or empty one', async () => {
    await expect(resolveSecret({ env: 'S' }, { S: 'value' })).resolves.toBe('value');
    await expect(resolveSecret({ env: 'S' }, {})).rejects.toThrow(/S is not set/);
    await expect(resolveSecret({ env: 'S' }, { S: '' })).rejects.toBeInstanceOf(ConfigError);
  });

  it('reads a mounted file without its trailing newline', async () => {
    const path = await write('secret', 'value-from-file\n');
    await expect(resolveSecret({ file: path })).resolves.toBe('value-from-file');
    await expect(resolveSecret({ file: join(scratch.directory, 'none') })).rejects.toThrow(/cannot read secret file/);
  });
});

describe('lifecycle settings', () => {
  const base = {
    connector: { publisherIdentifier: TENANT },
    auth: { clientId: TENANT, clientSecret: { env: 'S' } },
    kafka: { brokers: ['127.0.0.1:9092'] },
  };

  it('needs tenants unless the admin API is on, and an enabled admin API needs its token and state secret', () => {
    const noTenants = configSchema.safeParse(base);
    expect(noTenants.success).toBe(false);
    expect(noTenants.error?.issues.map((i) => i.path.join('.'))).toContain('tenants');
    const adminWithoutSecrets = configSchema.safeParse({ ...base, admin: { enabled: true } });
    expect(adminWithoutSecrets.error?.issues.map((i) => i.path.join('.')).sort()).toEqual(['admin.stateSecret', 'admin.token']);
    const ok = configSchema.parse({ ...base, admin: { enabled: true, token: { env: 'T' }, stateSecret: { file: '/s' } } });
    expect(ok.admin).toMatchObject({ port: 9465, consentStateTtlSeconds: 3600 });
    expect(ok.lifecycle.deauthorizedRetentionDays).toBe(90);
  });
});
