import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerConfigCommand } from '../../../src/cli/commands/config.ts';
import { SECRET_ENV, MINIMAL_YAML, BROKEN_YAML, configScratch } from '../../support/config-fixtures.ts';

const BIN = resolve(import.meta.dirname, '../../../bin/onedrive-connector.js');
let scratch: Awaited<ReturnType<typeof configScratch>>;
beforeAll(async () => {
  scratch = await configScratch('config-check-test-');
});
afterAll(async () => {
  await scratch.cleanup();
});
const write = (name: string, text: string): Promise<string> => scratch.write(name, text);

/** `onedrive-connector config check FILE` as an operator runs it. */
function configCheck(file: string, env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '', LOG_LEVEL: 'silent', ...env };
  return new Promise((resolvePromise) => {
    execFile(process.execPath, [BIN, 'config', 'check', file], { env: childEnv, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolvePromise({ code, stdout, stderr });
    });
  });
}

// Each case spawns Node (about 3 s of start-up), so they run side by side.
describe.concurrent('onedrive-connector config check (spawned)', { timeout: 40_000 }, () => {
  it('exits 1 and prints every problem to stderr', async () => {
    const result = await configCheck(await write('broken.yaml', BROKEN_YAML), { [SECRET_ENV]: 'x' });

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('has 5 problem(s)');
    expect(result.stderr).toContain('pollIntervalSecs');
    expect(result.stderr).toContain('connector.firstRunLookbackHours');
    expect(result.stderr).toContain('tenants.0.id: must be a GUID');
    expect(result.stderr).toContain('kafka.brokers');
    expect(result.stderr).toContain('exactly one of clientSecret or certificate');
  });

  it('exits 0 on a good file with the secret set, and never prints the secret', async () => {
    const result = await configCheck(await write('good.yaml', MINIMAL_YAML), { [SECRET_ENV]: 'S3cr3t-Value-Not-To-Print' });

    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('is valid: 1 tenant(s), delivery exactly-once, Kafka localhost:9092');
    expect(result.stdout).not.toContain('S3cr3t-Value-Not-To-Print');
  });

  it('exits 1 when the secret environment variable is missing', async () => {
    const result = await configCheck(await write('good-no-secret.yaml', MINIMAL_YAML), {});

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`auth.clientSecret: environment variable ${SECRET_ENV} is not set`);
  });
});

/** The command in this process, with stderr captured and the exit code restored after. */
async function configCheckInProcess(file: string, env: NodeJS.ProcessEnv = {}): Promise<{ exitCode: typeof process.exitCode; stderr: string }> {
  const program = new Command('onedrive-connector').exitOverride();
  registerConfigCommand(program);
  const stderr: string[] = [];
  const originalWrite = process.stderr.write.bind(process.stderr);
  const previousExitCode = process.exitCode;
  const previousEnv = { ...process.env };
  Object.assign(process.env, env);
  process.stderr.write = (chunk: string | Uint8Array) => {
    stderr.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  try {
    await program.parseAsync(['config', 'check', file], { from: 'user' });
    return { exitCode: process.exitCode, stderr: stderr.join('') };
  } finally {
    process.stderr.write = originalWrite;
    process.exitCode = previousExitCode;
    for (const key of Object.keys(env)) {
      if (previousEnv[key] === undefined) delete process.env[key];
      else process.env[key] = previousEnv[key];
    }
  }
}

describe('config check command (in process)', () => {
  it('names every unreadable secret and file of a certificate config', async () => {
    const file = await write(
      'cert.yaml',
      MINIMAL_YAML.replace(`  clientSecret:\n    env: ${SECRET_ENV}`, `  certificate:\n    privateKey:\n      file: ${join(scratch.directory, 'no-key.pem')}\n    certificateFile: ${join(scratch.directory, 'no-cert.pem')}`),
    );
    const { exitCode, stderr: text } = await configCheckInProcess(file);

    expect(exitCode).toBe(1);
    expect(text).toContain('has 2 problem(s)');
    expect(text).toContain('auth.certificate.privateKey: cannot read secret file');
    expect(text).toContain('auth.certificate.certificateFile:');
  });

  it('names every unreadable Kafka TLS file, Kafka secret and admin secret (read only at start otherwise)', async () => {
    const missing = (name: string): string => join(scratch.directory, name);
    const kafka = [
      'kafka:',
      '  brokers: [localhost:9093]',
      '  tls:',
      `    caFile: ${missing('no-ca.pem')}`,
      `    certificateFile: ${missing('no-client.pem')}`,
      '    privateKey:',
      `      file: ${missing('no-client-key.pem')}`,
      '    privateKeyPassphrase:',
      '      env: TEST_KAFKA_KEY_PASSPHRASE_UNSET',
      '  sasl:',
      '    mechanism: scram-sha-512',
      '    username: connector',
      '    password:',
      '      env: TEST_KAFKA_SASL_PASSWORD_UNSET',
      'admin:',
      '  enabled: true',
      '  token:',
      '    env: TEST_ADMIN_TOKEN_UNSET',
      '  stateSecret:',
      `    file: ${missing('no-state-secret')}`,
    ].join('\n');
    const file = await write('kafka-security.yaml', MINIMAL_YAML.replace('kafka:\n  brokers: [localhost:9092]', kafka));
    const { exitCode, stderr: text } = await configCheckInProcess(file, { [SECRET_ENV]: 'x' });

    expect(exitCode).toBe(1);
    expect(text).toContain('has 7 problem(s)');
    for (const key of ['kafka.tls.caFile', 'kafka.tls.certificateFile', 'kafka.tls.privateKey', 'admin.stateSecret']) expect(text).toContain(`${key}:`);
    expect(text).toContain('kafka.tls.privateKeyPassphrase: environment variable TEST_KAFKA_KEY_PASSPHRASE_UNSET is not set');
    expect(text).toContain('kafka.sasl.password: environment variable TEST_KAFKA_SASL_PASSWORD_UNSET is not set');
    expect(text).toContain('admin.token: environment variable TEST_ADMIN_TOKEN_UNSET is not set');
  });
});
