import { mkdtemp, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, resolveSecret } from '../../../src/config/load.ts';

/** Secret problems name the config key and the variable or file, in `run` as in `config check`. */
describe('resolveSecret messages', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'secret-messages-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const problem = async (attempt: Promise<string>): Promise<string> => {
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.join('\n');
  };

  it('tells an empty variable from a missing one', async () => {
    expect(await problem(resolveSecret({ env: 'S' }, {}, 'auth.clientSecret'))).toBe('auth.clientSecret: environment variable S is not set');
    expect(await problem(resolveSecret({ env: 'S' }, { S: '' }, 'auth.clientSecret'))).toBe('auth.clientSecret: environment variable S is set but empty');
    expect(await problem(resolveSecret({ env: 'S' }, { S: '  \n' }, 'auth.clientSecret'))).toContain('is set but empty');
  });

  it('names the key and the file when the file cannot be read or is empty', async () => {
    const missing = join(dir, 'missing');
    expect(await problem(resolveSecret({ file: missing }, {}, 'auth.certificate.privateKey'))).toMatch(new RegExp(`^auth\\.certificate\\.privateKey: cannot read secret file ${missing}: ENOENT`));
    const empty = join(dir, 'empty');
    await writeFile(empty, '\n');
    expect(await problem(resolveSecret({ file: empty }, {}, 'auth.clientSecret'))).toBe(`auth.clientSecret: secret file ${empty} is empty`);
    if (process.getuid?.() !== 0) {
      const locked = join(dir, 'locked');
      await writeFile(locked, 'value');
      await chmod(locked, 0o000);
      expect(await problem(resolveSecret({ file: locked }, {}, 'auth.clientSecret'))).toMatch(/^auth\.clientSecret: cannot read secret file .*locked: EACCES/);
    }
  });

  it('never puts the value in a message', async () => {
    await expect(resolveSecret({ env: 'S' }, { S: 'Sup3r' }, 'auth.clientSecret')).resolves.toBe('Sup3r');
  });
});
