import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { request } from 'undici';

/**
 * `onedrive-connector tenants …`: the admin API from a shell. Every subcommand is one call; the
 * answer is printed as JSON, an error answer goes to stderr with every problem and exits 1.
 */
interface ApiOptions {
  url: string;
  tokenEnv: string;
  tokenFile?: string;
}

async function adminToken(options: ApiOptions): Promise<string> {
  if (options.tokenFile !== undefined) return (await readFile(options.tokenFile, 'utf8')).trim();
  const token = process.env[options.tokenEnv];
  if (token === undefined || token === '') throw new Error(`Set ${options.tokenEnv} (or pass --token-file) to the admin API token`);
  return token;
}

async function call(options: ApiOptions, method: 'GET' | 'POST', path: string, body?: unknown): Promise<void> {
  const response = await request(`${options.url.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { authorization: `Bearer ${await adminToken(options)}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.body.text();
  if (response.statusCode >= 400) {
    let message = text;
    try {
      const parsed = JSON.parse(text) as { error?: { code?: string; message?: string; problems?: Array<{ path: string; message: string }> } };
      const problems = (parsed.error?.problems ?? []).map((p) => `\n  - ${p.path === '' ? '(body)' : p.path}: ${p.message}`).join('');
      message = `${parsed.error?.code ?? 'ERROR'}: ${parsed.error?.message ?? text}${problems}`;
    } catch {
      // Not JSON: print it as it came.
    }
    process.stderr.write(`HTTP ${response.statusCode} ${message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(`${JSON.stringify(JSON.parse(text), null, 2)}\n`);
}

export function registerTenantsCommand(program: Command): void {
  const tenants = program
    .command('tenants')
    .description('Manage tenant connections through the admin API of a running connector.')
    .option('--url <url>', 'admin API base URL', process.env['ONEDRIVE_ADMIN_URL'] ?? 'http://127.0.0.1:9465')
    .option('--token-env <name>', 'environment variable holding the admin token', 'ONEDRIVE_ADMIN_TOKEN')
    .option('--token-file <file>', 'file holding the admin token (e.g. a mounted secret)');
  const api = (): ApiOptions => tenants.opts<ApiOptions>();
  const id = (tenant: string): string => encodeURIComponent(tenant);

  tenants.command('list').description('List tenants and their status.').action(() => call(api(), 'GET', '/tenants'));
  tenants.command('show').argument('<tenant>').description('Show a tenant with its status history.').action((t: string) => call(api(), 'GET', `/tenants/${id(t)}`));
  tenants
    .command('add')
    .argument('<tenant>', 'tenant GUID')
    .option('--display-name <name>')
    .option('--cloud <cloud>', 'commercial, gcc, gcc-high or dod')
    .option('--plan <plan>', 'licence plan, e.g. E5 or Business')
    .description('Add a tenant; it waits for admin consent (PendingConsent).')
    .action((t: string, o: { displayName?: string; cloud?: string; plan?: string }) =>
      call(api(), 'POST', '/tenants', { id: t, ...(o.displayName === undefined ? {} : { displayName: o.displayName }), ...(o.cloud === undefined ? {} : { cloud: o.cloud }), ...(o.plan === undefined ? {} : { plan: o.plan }) }),
    );
  for (const action of ['pause', 'resume', 'deauthorize'] as const) {
    tenants.command(action).argument('<tenant>').description(`${action[0]?.toUpperCase()}${action.slice(1)} a tenant.`).action((t: string) => call(api(), 'POST', `/tenants/${id(t)}/${action}`));
  }
  tenants.command('consent-url').argument('<tenant>').description('Print the admin-consent URL to send to a global admin of the tenant.').action((t: string) => call(api(), 'GET', `/tenants/${id(t)}/consent-url`));
  tenants
    .command('import')
    .argument('<file>', 'legacy export (JSON, docs/lifecycle.md)')
    .description('Import a connection from the legacy connector.')
    .action(async (file: string) => call(api(), 'POST', '/tenants/import', JSON.parse(await readFile(file, 'utf8')) as unknown));
  tenants
    .command('maintenance')
    .argument('<tenant>')
    .requiredOption('--from <time>', 'ISO 8601, e.g. 2026-12-05T00:00:00Z')
    .requiredOption('--to <time>', 'ISO 8601')
    .description('Schedule a maintenance (upgrade) window.')
    .action((t: string, o: { from: string; to: string }) => call(api(), 'POST', `/tenants/${id(t)}/maintenance`, { from: o.from, to: o.to }));
}
