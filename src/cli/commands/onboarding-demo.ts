import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Agent, request } from 'undici';
import type { ConnectorConfig } from '../../config/schema.ts';
import { createConnector } from '../../runtime/connector.ts';
import { startSimulator } from '../../simulator/index.ts';
import { createLogger } from '../../telemetry/logger.ts';
import { embeddedConfig } from '../embedded-pipeline.ts';

const TOKEN_ENV = 'ONEDRIVE_DEMO_ADMIN_TOKEN';
const STATE_ENV = 'ONEDRIVE_DEMO_STATE_SECRET';

/**
 * One tenant's onboarding, as the quick start shows it: added through the admin API (PendingConsent),
 * its admin opens the consent URL (the simulator's consent page redirects back as Entra does),
 * verification and subscription (Initializing: Microsoft lists a new subscription's first content
 * late, here after `--first-content-seconds`), then the first content (Monitoring).
 */
export function registerOnboardingDemoCommand(program: Command): void {
  program
    .command('demo-onboarding')
    .description('One simulated tenant through PendingConsent → Initializing → Monitoring, via the admin API and admin consent.')
    .option('--brokers <list>', 'Kafka bootstrap servers', process.env['KAFKA_BROKERS'] ?? '127.0.0.1:19092')
    .option('--first-content-seconds <n>', 'how late the simulator lists the first content of the new subscription (Microsoft: up to 12 h)', '5')
    .option('--timeout <seconds>', 'give up after this long', '180')
    .action(async (options: { brokers: string; firstContentSeconds: string; timeout: string }) => {
      const logger = createLogger({ level: process.env['LOG_LEVEL'] ?? 'warn' });
      const sim = await startSimulator({ seed: 'onboarding', tenants: [{ scenario: 'no-consent', eventsPerHour: 30, historyHours: 24 }], firstContentDelayMinutes: Number(options.firstContentSeconds) / 60 });
      const dir = await mkdtemp(join(tmpdir(), 'onedrive-onboarding-'));
      const browser = new Agent({ connect: { ca: sim.caPem } });
      const say = (line: string): boolean => process.stdout.write(`${line}\n`);
      try {
        const caFile = join(dir, 'simulator-ca.pem');
        await writeFile(caFile, sim.caPem);
        const prefix = `onboarding-${new Date().toISOString().replace(/[-:.TZ]/g, '').slice(0, 14)}.`;
        const base = embeddedConfig(sim, { brokers: options.brokers.split(','), deliveryMode: 'exactly-once', topicPrefix: prefix, metricsPort: 0 }, caFile);
        const config: ConnectorConfig = {
          ...base,
          tenants: [],
          admin: { enabled: true, host: '127.0.0.1', port: 0, token: { env: TOKEN_ENV }, stateSecret: { env: STATE_ENV }, consentStateTtlSeconds: 3600 },
        };
        const token = randomBytes(16).toString('hex');
        const secretEnv = base.auth.clientSecret?.env ?? '';
        const connector = await createConnector(config, { logger, env: { ...process.env, [secretEnv]: sim.clientSecret, [TOKEN_ENV]: token, [STATE_ENV]: randomBytes(16).toString('hex') } });
        await connector.start();
        const admin = connector.adminUrl() ?? '';
        const api = async (method: string, path: string, body?: unknown): Promise<Record<string, unknown>> => {
          const res = await fetch(`${admin}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
          return (await res.json()) as Record<string, unknown>;
        };
        const tenant = sim.tenants[0]?.id ?? '';
        say(`Admin API at ${admin}; adding tenant ${tenant} (onedrive-connector tenants add ${tenant})`);
        let seen = 0;
        const printHistory = (): string | undefined => {
          const record = connector.registry.get(tenant);
          for (const entry of record?.history.slice(seen) ?? []) say(`  ${entry.at}  ${entry.from} → ${entry.to}  (${entry.reason})`);
          seen = record?.history.length ?? seen;
          return record?.status.state;
        };
        const added = (await api('POST', '/tenants', { id: tenant, displayName: sim.tenants[0]?.name, plan: sim.tenants[0]?.plan })) as { status?: { state: string; remedy: string } };
        say(`  status: ${added.status?.state} — ${added.status?.remedy}`);
        const { url } = (await api('GET', `/tenants/${tenant}/consent-url`)) as { url: string };
        say(`The tenant's global admin opens the consent URL:\n  ${url}`);
        const page = await request(url, { dispatcher: browser });
        await page.body.dump();
        const callback = String(page.headers['location']);
        say(`Entra ID (here the simulator) sends the browser back to ${callback.split('?')[0]}`);
        say(`  callback answer: ${JSON.stringify(await (await fetch(callback)).json())}`);
        const deadline = Date.now() + Number(options.timeout) * 1000;
        let state = printHistory();
        while (state !== 'Monitoring' && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 500));
          state = printHistory();
        }
        say(state === 'Monitoring' ? `Tenant ${tenant} is Monitoring: events flow to ${config.kafka.topics.events}; transitions are on ${config.kafka.topics.connectionStatus}.` : `Tenant ${tenant} did not reach Monitoring (state ${state ?? 'unknown'}).`);
        await connector.stop();
        process.exitCode = state === 'Monitoring' ? 0 : 1;
      } finally {
        await browser.close();
        await sim.close();
        await rm(dir, { recursive: true, force: true });
      }
    });
}
