import { InvalidArgumentError, type Command } from 'commander';
import { loadConfigFile } from '../../config/load.ts';
import { systemClock } from '../../contracts/clock.ts';
import { Anonymizer } from '../../fixtures/anonymize.ts';
import { readKeyFile } from '../../fixtures/anonymize-folder.ts';
import { recordTenant } from '../../fixtures/recorder.ts';
import { createTenantApi } from '../../fixtures/tenant-api.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { onShutdownSignals } from '../signals.ts';

interface RecordFlags {
  config: string;
  tenant: string;
  since: number;
  until?: number;
  out: string;
  name?: string;
  anonymize?: string;
  names: boolean;
  pollInterval: number;
  lateWindow: number;
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 };

/** An ISO 8601 instant, or a duration back from now: `90m`, `6h`, `2d`. */
export function parseInstant(value: string, nowMs: number = Date.now()): number {
  const relative = /^(\d+(?:\.\d+)?)([mhd])$/.exec(value.trim());
  if (relative?.[1] !== undefined && relative[2] !== undefined) return nowMs - Number(relative[1]) * (UNIT_MS[relative[2]] ?? 0);
  const ms = Date.parse(value);
  if (Number.isNaN(ms) || !/\d{4}-\d{2}-\d{2}/.test(value)) throw new InvalidArgumentError('Expected an ISO 8601 time (2026-01-15T10:00:00Z) or a duration ago (90m, 6h, 2d).');
  return ms;
}

function nonNegative(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('Expected a non-negative number.');
  return n;
}

/** A short tenant name for tenant.json (also `<name>.onmicrosoft.com` at the simulator's token endpoint). */
function shortName(flags: RecordFlags, displayName: string | undefined): string {
  const raw = flags.name ?? displayName ?? 'recorded';
  return raw.toLowerCase().replace(/[^a-z0-9-]/g, '') || 'recorded';
}

/**
 * `record`: saves a tenant's content (listing and blobs, byte for byte) as a fixture folder with the
 * connector's own API client, resumable; optionally pseudonymised on the way (fixtures/README.md).
 */
export function registerRecordCommand(program: Command): void {
  program
    .command('record')
    .description("Record a tenant's Audit.SharePoint content as a replayable fixture folder, using the connector's configuration and API client.")
    .requiredOption('-c, --config <file>', 'connector configuration (YAML or JSON); the tenant must be listed in it')
    .requiredOption('--tenant <id>', 'tenant GUID to record')
    .requiredOption('--since <time>', 'oldest contentCreated to record: ISO 8601 or a duration ago (6h, 2d; at most 7 days)', (v) => parseInstant(v))
    .option('--until <time>', 'contentCreated to stop before (default: now); in the future, the recording keeps listing until then', (v) => parseInstant(v))
    .requiredOption('--out <dir>', 'the tenant folder to write (resumes what an interrupted run left there)')
    .option('--name <name>', "tenant short name written to tenant.json (default: the tenant's displayName)")
    .option('--anonymize <keyfile>', 'pseudonymise with the keyed hash in this file before anything is written')
    .option('--names', 'with --anonymize: also pseudonymise file, folder and site names (extensions kept)', false)
    .option('--poll-interval <seconds>', 'pause between listing passes while --until is in the future', nonNegative, 60)
    .option('--late-window <minutes>', 'keep listing this long after --until for blobs listed late', nonNegative, 0)
    .action(async (flags: RecordFlags) => {
      const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'info' });
      const config = await loadConfigFile(flags.config);
      const transform = flags.anonymize === undefined ? undefined : new Anonymizer({ key: await readKeyFile(flags.anonymize), names: flags.names });
      const tenantApi = await createTenantApi(config, flags.tenant, { logger });
      const { api, tenant } = tenantApi;
      const interrupted = new AbortController();
      const release = onShutdownSignals(() => interrupted.abort(new Error('Interrupted')));
      try {
        const result = await recordTenant({
          api,
          tenant: { id: tenant.id, name: shortName(flags, tenant.displayName), plan: tenant.plan === 'unknown' ? 'E3' : tenant.plan },
          sinceMs: flags.since,
          ...(flags.until === undefined ? {} : { untilMs: flags.until }),
          lateWindowMs: flags.lateWindow * 60_000,
          pollIntervalMs: flags.pollInterval * 1000,
          outDir: flags.out,
          clock: systemClock,
          logger,
          signal: interrupted.signal,
          ...(transform === undefined ? {} : { transform }),
        });
        process.stdout.write(`Recorded ${result.total} blobs into ${flags.out} (${result.saved} new, ${result.resumed} from an earlier run, ${result.passes} listing pass(es)). Replay: onedrive-connector replay --fixtures ${flags.out}\n`);
        for (const skipped of result.skipped) process.stderr.write(`Not recorded: ${skipped.contentId}: ${skipped.reason}\n`);
        if (result.skipped.length > 0) {
          process.stderr.write(`${result.skipped.length} listed blob(s) could not be recorded; run the same command again to retry them.\n`);
          process.exitCode = 1;
        }
      } catch (error) {
        if (!interrupted.signal.aborted) throw error;
        process.stderr.write(`Interrupted; what was saved is kept. Run the same command again to resume.\n`);
        process.exitCode = 130;
      } finally {
        release();
        await tenantApi.close();
      }
    });
}
