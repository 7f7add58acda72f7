import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMBEDDED_LOOKBACK_HOURS, embeddedConfig, needsAdmin, tenantCaughtUp } from '../../src/cli/embedded-pipeline.ts';
import type { ConnectorConfig } from '../../src/config/schema.ts';
import type { Clock } from '../../src/contracts/clock.ts';
import { createConnector, type Connector } from '../../src/runtime/connector.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../src/simulator/index.ts';
import { silentLogger, type Logger } from '../../src/telemetry/logger.ts';
import { normalize } from '../../src/transform/normalize/index.ts';
import { RETENTION_MS, RETENTION_SAFETY_MS } from '../../src/source/poller/window-planner.ts';
import { afterEach, beforeEach, expect } from 'vitest';
import { kafkaBrokers, readAll, requireBroker, uniqueName } from './kafka.ts';
import { kafkaClientOverride } from './kafka-client.ts';
import { waitFor } from './time.ts';

export const SECRET_ENV = 'ONEDRIVE_CONNECTOR_EMBEDDED_SECRET';

/**
 * Every event inside the first run's reach was published, and nothing outside it: blobs created within
 * the harness's margin of the reach's old end may go either way (the exact start instant decides).
 */
export function expectWithinReach(published: Set<string>, expected: { required: Set<string>; allowed: Set<string> }): void {
  expect([...expected.required].filter((id) => !published.has(id)), 'missing events').toEqual([]);
  expect([...published].filter((id) => !expected.allowed.has(id)), "events outside the first run's reach").toEqual([]);
  expect(published.size).toBeGreaterThan(0);
}

/** A connector with its admin API on, and a client for that API (bearer token set). */
export interface AdminConnector {
  connector: Connector;
  /** Calls the admin API; the body is parsed as JSON (every answer of the API is). */
  api: (method: string, path: string, body?: unknown) => Promise<{ status: number; body: Record<string, unknown> }>;
}

export interface HarnessOptions {
  simulator: SimulatorOptions;
  deliveryMode?: 'exactly-once' | 'at-least-once';
  /** Tweaks applied to the connector section of the generated config. */
  connector?: Partial<ConnectorConfig['connector']>;
  logger?: Logger;
}

/**
 * Simulator + config + fresh topics for one end-to-end test. Connectors are created on demand so a
 * test can stop one and start another on the same cursors (a restart).
 */
export class PipelineHarness {
  readonly sim: RunningSimulator;
  readonly config: ConnectorConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly #dir: string;
  readonly #logger: Logger;
  /** Connector clock when the harness started: the first run looks back from about here. */
  #startedAtMs = Date.now();
  #connectorsStarted = 0;
  /** Stopped by close(), so a test that fails half-way leaves no connector running. */
  readonly #connectors: Connector[] = [];

  private constructor(sim: RunningSimulator, config: ConnectorConfig, dir: string, logger: Logger) {
    this.sim = sim;
    this.config = config;
    this.#dir = dir;
    this.#logger = logger;
    this.env = { ...process.env, [SECRET_ENV]: sim.clientSecret };
  }

  static async start(options: HarnessOptions): Promise<PipelineHarness> {
    const sim = await startSimulator(options.simulator);
    const dir = await mkdtemp(join(tmpdir(), 'pipeline-harness-'));
    const caFile = join(dir, 'ca.pem');
    await writeFile(caFile, sim.caPem);
    const base = embeddedConfig(sim, { brokers: kafkaBrokers(), deliveryMode: options.deliveryMode ?? 'exactly-once', topicPrefix: `${uniqueName('it')}.`, metricsPort: 0 }, caFile);
    const config: ConnectorConfig = { ...base, kafka: { ...base.kafka, ...kafkaClientOverride() }, connector: { ...base.connector, ...options.connector } };
    return new PipelineHarness(sim, config, dir, options.logger ?? silentLogger);
  }

  async startConnector(overrides: Partial<ConnectorConfig['connector']> = {}): Promise<Connector> {
    if (this.#connectorsStarted++ === 0) this.#startedAtMs = Date.now();
    const connector = this.#track(await createConnector({ ...this.config, connector: { ...this.config.connector, ...overrides } }, { logger: this.#logger, env: this.env }));
    await connector.start();
    return connector;
  }

  /** A connector with another auth section (e.g. a certificate) and extra environment variables. */
  async startConnectorWith(options: { auth: ConnectorConfig['auth']; env: NodeJS.ProcessEnv }): Promise<Connector> {
    if (this.#connectorsStarted++ === 0) this.#startedAtMs = Date.now();
    const connector = this.#track(await createConnector({ ...this.config, auth: options.auth }, { logger: this.#logger, env: { ...this.env, ...options.env } }));
    await connector.start();
    return connector;
  }

  /**
   * A connector with the admin API on a free port (token and consent-state secret from the
   * environment), on `tenants` instead of every simulated tenant when given, and on `clock` when given.
   */
  async startAdminConnector(options: { token: string; tenants?: ConnectorConfig['tenants']; clock?: Clock }): Promise<AdminConnector> {
    if (this.#connectorsStarted++ === 0) this.#startedAtMs = Date.now();
    const config: ConnectorConfig = {
      ...this.config,
      tenants: options.tenants ?? this.config.tenants,
      admin: { enabled: true, host: '127.0.0.1', port: 0, token: { env: 'ADMIN_TOKEN' }, stateSecret: { env: 'STATE_SECRET' }, consentStateTtlSeconds: 3600 },
    };
    const env = { ...this.env, ADMIN_TOKEN: options.token, STATE_SECRET: `${options.token}-state-secret` };
    const connector = this.#track(await createConnector(config, { logger: this.#logger, env, ...(options.clock === undefined ? {} : { clock: options.clock }) }));
    await connector.start();
    const api: AdminConnector['api'] = async (method, path, body) => {
      const res = await fetch(`${connector.adminUrl() ?? ''}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };
    return { connector, api };
  }

  /** Every tenant that can be collected has listed up to the simulator's present with nothing in flight. */
  caughtUp(connector: Connector): boolean {
    const progress = connector.progress();
    const statuses = connector.statuses();
    const now = this.sim.clock.now();
    return Object.entries(statuses).every(([id, status]) => needsAdmin(status) || tenantCaughtUp(progress[id], now));
  }

  async waitCaughtUp(connector: Connector, timeoutMs = 120_000): Promise<void> {
    await waitFor(() => this.caughtUp(connector), { timeoutMs, intervalMs: 200, what: 'the connector to catch up with the simulator' });
  }

  /** Events in the topic (read_committed), as [tenant, event id] pairs in topic order. */
  async readEvents(): Promise<Array<{ tenant: string; id: string; value: Record<string, unknown> }>> {
    const messages = await readAll(this.config.kafka.topics.events, { isolation: 'read_committed', deadlineMs: 60_000, settleMs: 1_000 });
    return messages.map((m) => ({ tenant: m.headers['tenant-id'] ?? '', id: m.key ?? '', value: JSON.parse(m.value ?? '{}') as Record<string, unknown> }));
  }

  async readDeadLetters(): Promise<Array<Record<string, unknown>>> {
    const messages = await readAll(this.config.kafka.topics.deadLetter, { isolation: 'read_committed', deadlineMs: 60_000, settleMs: 1_000 });
    return messages.map((m) => JSON.parse(m.value ?? '{}') as Record<string, unknown>);
  }

  /**
   * Event ids the connector must publish (`required`: every blob inside the first run's reach, which is
   * the lookback — never more, however often it restarts — clamped to the 7 days the API keeps) and
   * may publish (`allowed`: the same with a margin at the old end, where the exact start instant decides).
   */
  async expectedEventIds(tenantId: string): Promise<{ required: Set<string>; allowed: Set<string> }> {
    const reach = this.#startedAtMs - EMBEDDED_LOOKBACK_HOURS * 3600_000;
    const since = Math.max(reach, this.sim.clock.now() - RETENTION_MS + RETENTION_SAFETY_MS);
    const margin = 120_000;
    return { required: await this.#eventIds(tenantId, since + margin), allowed: await this.#eventIds(tenantId, since - margin) };
  }

  async #eventIds(tenantId: string, sinceMs: number): Promise<Set<string>> {
    const truth = await this.sim.expectedRecords(tenantId, { sinceContentCreated: sinceMs });
    const ids = new Set<string>();
    for (const record of truth.records.values()) {
      const result = normalize(JSON.parse(record.json.replace(/^\uFEFF/, '')), { tenantId, now: () => new Date() });
      if (result.kind === 'event') ids.add(record.id);
    }
    return ids;
  }

  #track(connector: Connector): Connector {
    this.#connectors.push(connector);
    return connector;
  }

  /** Stops every connector it started (stopping twice is safe), then the simulator. */
  async close(): Promise<void> {
    for (const connector of this.#connectors.splice(0)) await connector.stop();
    await this.sim.close();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/**
 * For a describe block of end-to-end tests: the broker is required before each test, and every
 * harness a test started through the returned function is closed after it, with its connectors.
 */
export function harnessPerTest(): (options: HarnessOptions) => Promise<PipelineHarness> {
  const open: PipelineHarness[] = [];
  beforeEach(requireBroker);
  afterEach(async () => {
    for (const harness of open.splice(0)) await harness.close();
  });
  return async (options) => {
    const harness = await PipelineHarness.start(options);
    open.push(harness);
    return harness;
  };
}
