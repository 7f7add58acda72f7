import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startAdminWorld } from '../../support/admin.ts';

const run = promisify(execFile);
let world: Awaited<ReturnType<typeof startAdminWorld>> | undefined;
afterEach(async () => {
  await world?.close();
  world = undefined;
});

/**
 * The property-based run against the OpenAPI document (schemathesis, installed into .tools/ by
 * scripts/tools/schemathesis.sh): generated and mutated requests for every operation, including the
 * stateful phase that chains add → show → pause …; no 5xx, and every answer matches the document
 * (status code, content type, body schema).
 */
describe('admin API against its OpenAPI document', () => {
  it('finds no server error and no response that breaks the document', async () => {
    const { stdout: cliPath } = await run('bash', ['scripts/tools/schemathesis.sh'], { timeout: 300_000 });
    world = await startAdminWorld();
    const cli = cliPath.trim();
    const result = await run(
      cli,
      [
        'run',
        `${world.url}/openapi.json`,
        '--checks',
        'not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance',
        '--header',
        `Authorization: Bearer ${ADMIN_TOKEN}`,
        '--max-examples',
        '40',
        '--seed',
        '1',
        '--workers',
        '1',
        '--no-color',
        '--suppress-health-check',
        'all',
      ],
      { timeout: 400_000, maxBuffer: 64 * 1024 * 1024 },
    ).catch((error: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: error.stdout ?? '', stderr: error.stderr ?? '', failed: error.code ?? 1 }));
    const output = `${result.stdout}\n${result.stderr}`;
    expect('failed' in result ? output : 'passed').toBe('passed');
    // A run that tested nothing must not count: the summary says how many cases it generated.
    expect(Number(/(\d+) generated/.exec(output)?.[1] ?? 0)).toBeGreaterThan(100);
    expect(world.registry.list().length).toBeGreaterThan(0);
  }, 600_000);
});
