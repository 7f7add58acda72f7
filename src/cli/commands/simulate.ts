import { writeFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { createLogger } from '../../telemetry/logger.ts';
import { integer, nonNegativeNumber, positiveNumber } from '../option-parsers.ts';
import { SCENARIOS, startSimulator, THROTTLE_STYLES, type Scenario, type TenantOptions, type ThrottleStyle } from '../../simulator/index.ts';

interface SimulateFlags {
  host: string;
  port: number;
  tenants: number;
  tenant: Scenario[];
  seed: string;
  quotaPerMinute?: number;
  throttleStyle?: ThrottleStyle;
  pageSize?: number;
  eventsPerHour?: number;
  fixtures?: string;
  caOut?: string;
  clientCertOut?: string;
  clientKeyOut?: string;
  tokenLifetimeSeconds?: number;
  speed?: number;
  firstContentDelayMinutes: number;
  largeBlobBytes?: number;
  lateTailFraction?: number;
  clientId?: string;
  clientSecret?: string;
}

/** Within Microsoft's documented "up to 12 hours"; short enough to watch a tenant go Initializing → Monitoring. */
const STANDALONE_FIRST_CONTENT_DELAY_MINUTES = 30;
function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('Expected a number from 0 to 1.');
  return n;
}

function scenario(value: string, previous: Scenario[]): Scenario[] {
  if (!(SCENARIOS as readonly string[]).includes(value)) throw new InvalidArgumentError(`Expected one of ${SCENARIOS.join(', ')}.`);
  return [...previous, value as Scenario];
}

/**
 * `onedrive-connector simulate`: runs the simulator until SIGINT/SIGTERM. Prints exactly one JSON line
 * on stdout once it listens (URLs, credentials, tenants), so scripts can read it; logs go to stderr.
 */
export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Serve a local HTTPS simulator of the Entra ID token endpoint and the Office 365 Management Activity API.')
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--port <port>', 'port (0 picks a free one)', integer, 0)
    .option('--tenants <n>', 'number of healthy synthetic tenants', integer, 1)
    .option('--tenant <scenario>', `add a tenant with this scenario, repeatable (${SCENARIOS.join(', ')})`, scenario, [])
    .option('--seed <seed>', 'seed of all generated data', '1')
    .option('--quota-per-minute <n>', 'requests per minute per tenant pool (default 2000)', integer)
    .addOption(new Option('--throttle-style <style>', 'how AF429 is answered (default 403)').choices(THROTTLE_STYLES))
    .option('--page-size <n>', 'listing entries per page (default 100)', integer)
    .option('--events-per-hour <n>', 'synthetic records per tenant per hour (default 60)', integer)
    .option('--fixtures <dir>', 'also serve the recorded tenants in this folder (fixtures/README.md)')
    // Microsoft lists a new subscription's first content up to 12 hours after it starts; a standalone
    // simulator shows that wait by default (in-process test simulators default to none).
    .option('--first-content-delay-minutes <n>', "how long a new subscription lists nothing (Microsoft: up to 12 h)", nonNegativeNumber, STANDALONE_FIRST_CONTENT_DELAY_MINUTES)
    .option('--speed <factor>', 'simulated time runs this many times faster than the wall clock (late fixture blobs appear sooner)', positiveNumber)
    .option('--ca-out <file>', 'write the CA certificate (PEM) here')
    .option('--client-cert-out <file>', 'write the accepted client certificate (PEM) here')
    .option('--client-key-out <file>', 'write the client certificate private key (PEM) here')
    .option('--token-lifetime-seconds <n>', 'access-token lifetime (default 3599)', integer)
    .option('--large-blob-bytes <n>', 'add one blob of about this size to every synthetic tenant', integer)
    .option('--late-tail-fraction <f>', 'share of blobs listed 6 h, 24 h or 3 days late (default 0: off)', fraction)
    .option('--client-id <id>', 'accepted client id')
    .option('--client-secret <secret>', 'accepted client secret')
    .action(async (flags: SimulateFlags) => {
      const logger = createLogger().child({ component: 'simulator' });
      const defs: TenantOptions[] = [
        ...Array.from({ length: flags.tenants }, (): TenantOptions => ({ scenario: 'healthy' })),
        ...flags.tenant.map((s): TenantOptions => ({ scenario: s })),
      ].map((d) => (flags.largeBlobBytes === undefined ? d : { ...d, largeBlob: { sizeBytes: flags.largeBlobBytes } }));
      const sim = await startSimulator({
        host: flags.host,
        port: flags.port,
        seed: flags.seed,
        tenants: defs,
        logger,
        ...(flags.quotaPerMinute === undefined ? {} : { quotaPerMinute: flags.quotaPerMinute }),
        ...(flags.throttleStyle === undefined ? {} : { throttleStyle: flags.throttleStyle }),
        ...(flags.pageSize === undefined ? {} : { pageSize: flags.pageSize }),
        ...(flags.eventsPerHour === undefined ? {} : { eventsPerHour: flags.eventsPerHour }),
        ...(flags.fixtures === undefined ? {} : { fixturesDir: flags.fixtures }),
        ...(flags.speed === undefined ? {} : { speedFactor: flags.speed }),
        firstContentDelayMinutes: flags.firstContentDelayMinutes,
        ...(flags.tokenLifetimeSeconds === undefined ? {} : { tokenLifetimeSeconds: flags.tokenLifetimeSeconds }),
        ...(flags.lateTailFraction === undefined ? {} : { lateTail: { fraction: flags.lateTailFraction } }),
        ...(flags.clientId === undefined ? {} : { clientId: flags.clientId }),
        ...(flags.clientSecret === undefined ? {} : { clientSecret: flags.clientSecret }),
      });
      if (flags.caOut !== undefined) writeFileSync(flags.caOut, sim.caPem);
      if (flags.clientCertOut !== undefined) writeFileSync(flags.clientCertOut, sim.clientCertificate.certPem);
      if (flags.clientKeyOut !== undefined && sim.clientCertificate.keyPem !== undefined) writeFileSync(flags.clientKeyOut, sim.clientCertificate.keyPem, { mode: 0o600 });
      const line = {
        ...sim.describe(),
        caPemPath: flags.caOut ?? null,
        clientCertificatePath: flags.clientCertOut ?? null,
        clientKeyPath: flags.clientKeyOut ?? null,
      };
      process.stdout.write(`${JSON.stringify(line)}\n`);
      logger.info({ baseUrl: sim.baseUrl, tenants: sim.tenants.length }, 'Simulator listening.');
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          logger.info({ signal }, 'Simulator stopping.');
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await sim.close();
      process.exitCode = 0;
    });
}
