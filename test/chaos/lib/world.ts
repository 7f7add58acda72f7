import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { stringify as toYaml } from 'yaml';
import { decodeCursorRecord } from '../../../src/kafka/cursor-record.ts';
import { embeddedConfig } from '../../../src/cli/embedded-pipeline.ts';
import type { ConnectorConfig } from '../../../src/config/schema.ts';
import type { KafkaClientName } from '../../../src/kafka/sink-client.ts';
import { kafkaClientOverride } from '../../support/kafka-client.ts';
import type { Cursor } from '../../../src/contracts/checkpoint.ts';
import { readToEnd } from '../../../src/kafka/read-to-end.ts';
import { ManualClock, startSimulator, type RunningSimulator } from '../../../src/simulator/index.ts';
import { normalize } from '../../../src/transform/normalize/index.ts';
import { ConnectorProcess } from './connector-process.ts';

export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const SECRET_ENV = 'ONEDRIVE_CONNECTOR_CHAOS_SECRET';

export type DeliveryMode = 'exactly-once' | 'at-least-once';

export interface WorldOptions {
  tenants: number;
  eventsPerHour: number;
  seed: string;
  mode: DeliveryMode;
  brokers: string[];
  /** Prefix of every topic and of the transactional id: runs never share state. */
  runId: string;
  /** Where the config, CA and connector logs go. */
  dir: string;
  /** First-run lookback of the connector (default 166 h: a 7-day backlog with an hour and more of slack before the retention edge). */
  lookbackHours?: number;
  shutdownTimeoutSeconds?: number;
  /** Extra connector settings (e.g. concurrency) merged into the generated config. */
  connector?: Partial<ConnectorConfig['connector']>;
  /** Share of blobs the simulator lists 6 h, 24 h or 3 days late (issue 12); 0 or undefined = none. */
  lateTail?: number;
  /** The sink's Kafka client (kafka.client); default the configuration's. */
  kafkaClient?: KafkaClientName;
  /** Extra Kafka settings (e.g. the shard group's timeouts) merged into the generated config. */
  kafka?: Partial<ConnectorConfig['kafka']>;
}

export interface EventCounts {
  /** Event ids the connector had to publish (every record since the first run's lower bound that normalizes to an event). */
  generated: number;
  /** Of those, how many are in the events topic (read_committed). */
  publishedUnique: number;
  lost: number;
  /** Messages in the topic beyond one per id. */
  duplicates: number;
  /** Ids published from the overlap before the first lower bound: allowed, not required. */
  extra: number;
  /** Ids the simulator never generated: always a bug. */
  unexpected: number;
  /** A few lost ids, for the report. */
  lostSample: string[];
}

/** Picks a free loopback port (the metrics port must stay the same across connector restarts). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((ok) => server.close(() => ok()));
  return port;
}

/**
 * The fixed world of a chaos run: an in-process simulator whose clock stands still (so the set of
 * generated events never changes, whatever happens to the connector), a connector config file for
 * `onedrive-connector run -c`, fresh topics, and the checks against the simulator's ground truth.
 */
export class ChaosWorld {
  readonly sim: RunningSimulator;
  readonly config: ConnectorConfig;
  readonly configPath: string;
  readonly dir: string;
  readonly metricsPort: number;
  readonly options: WorldOptions;
  readonly kafka: Kafka;
  readonly #clock: ManualClock;
  /** The simulator's present when the world was made (its clock only moves in the late-tail phase). */
  readonly #startMs: number;
  /** Every connector process started so far, in order. */
  readonly processes: ConnectorProcess[] = [];

  private constructor(sim: RunningSimulator, clock: ManualClock, config: ConnectorConfig, configPath: string, metricsPort: number, options: WorldOptions) {
    this.sim = sim;
    this.#clock = clock;
    this.#startMs = clock.now();
    this.config = config;
    this.configPath = configPath;
    this.dir = options.dir;
    this.metricsPort = metricsPort;
    this.options = options;
    this.kafka = new Kafka({ clientId: 'chaos-verifier', brokers: options.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3_000, retry: { retries: 8 } });
  }

  static async start(options: WorldOptions): Promise<ChaosWorld> {
    await mkdir(options.dir, { recursive: true });
    // Frozen a minute in the past: everything the simulator will ever list exists now, and "the
    // connector listed past the simulator's present" is clearly distinct from "still catching up".
    const clock = new ManualClock(Date.now() - 60_000);
    const lateTail = options.lateTail === undefined || options.lateTail <= 0 ? {} : { lateTail: { fraction: options.lateTail } };
    const sim = await startSimulator({ seed: options.seed, tenants: options.tenants, eventsPerHour: options.eventsPerHour, clock, ...lateTail });
    const caFile = join(options.dir, 'simulator-ca.pem');
    await writeFile(caFile, sim.caPem);
    const metricsPort = await freePort();
    const prefix = `${options.runId}.`;
    const base = embeddedConfig(sim, { brokers: options.brokers, deliveryMode: options.mode, topicPrefix: prefix, metricsPort }, caFile);
    const config: ConnectorConfig = {
      ...base,
      auth: { ...base.auth, clientSecret: { env: SECRET_ENV } },
      connector: {
        ...base.connector,
        firstRunLookbackHours: options.lookbackHours ?? 166,
        shutdownTimeoutSeconds: options.shutdownTimeoutSeconds ?? 20,
        // Sweeps every 30 s, so the late-tail phase does not wait 6 h for one.
        ...(options.lateTail === undefined || options.lateTail <= 0 ? {} : { sweep: { ...base.connector.sweep, intervalMinutes: 0.5, startupSpreadSeconds: 5 } }),
        ...options.connector,
      },
      kafka: {
        ...base.kafka,
        topics: { ...base.kafka.topics, publishedIds: `${prefix}published-ids.v1` },
        transactionalIdPrefix: options.runId,
        clientId: options.runId,
        ...(options.kafkaClient === undefined ? kafkaClientOverride() : { client: options.kafkaClient }),
        ...options.kafka,
      },
      // info: the driver reads "Tenant poller started" (first-run lower bounds) and "Shutdown requested".
      log: { level: 'info' },
    };
    const configPath = join(options.dir, 'config.yaml');
    await writeFile(configPath, toYaml(config));
    return new ChaosWorld(sim, clock, config, configPath, metricsPort, options);
  }

  /**
   * Moves the simulator's clock on (it otherwise stands still) and returns how many blobs became
   * listable in that time after being held back 6 h or more: what only the sweep can collect.
   */
  async releaseLateTail(ms: number): Promise<number> {
    const from = this.#clock.now();
    this.#clock.advance(ms);
    let released = 0;
    for (const tenant of this.tenantIds) {
      const truth = await this.sim.expectedRecords(tenant);
      released += truth.blobs.filter((b) => Date.parse(b.availableAt) > from && Date.parse(b.availableAt) - Date.parse(b.contentCreated) >= 6 * 3600_000).length;
    }
    return released;
  }

  get tenantIds(): string[] {
    return this.sim.tenants.map((t) => t.id);
  }

  /**
   * Starts `onedrive-connector run -c config.yaml` as a child process. Replicas running side by side
   * (scale-out) each need their own metrics port: `metricsPort` writes a config file of their own.
   */
  async spawnReplica(metricsPort: number): Promise<ConnectorProcess> {
    const configPath = join(this.dir, `config-${metricsPort}.yaml`);
    await writeFile(configPath, toYaml({ ...this.config, metrics: { ...this.config.metrics, port: metricsPort } }));
    return this.spawnConnector({ configPath, metricsPort });
  }

  /** Starts `onedrive-connector run -c config.yaml` as a child process. */
  spawnConnector(replica: { configPath: string; metricsPort: number } = { configPath: this.configPath, metricsPort: this.metricsPort }): ConnectorProcess {
    const index = this.processes.length + 1;
    const proc = new ConnectorProcess({
      index,
      configPath: replica.configPath,
      cwd: PROJECT_ROOT,
      env: { ...process.env, [SECRET_ENV]: this.sim.clientSecret },
      logFile: join(this.dir, `connector-${String(index).padStart(2, '0')}.log`),
      metricsUrl: `http://127.0.0.1:${replica.metricsPort}`,
      tenants: this.tenantIds,
      simNowMs: this.sim.clock.now(),
    });
    this.processes.push(proc);
    return proc;
  }

  /**
   * Per tenant, the lower bound the first run started from: the latest one a process logged when it
   * found no cursor (a process killed before committing any cursor leaves the next one to start afresh).
   */
  firstRunLowerBounds(): Map<string, number> {
    const bounds = new Map<string, number>();
    for (const proc of this.processes) {
      for (const [tenant, ms] of proc.freshStarts) bounds.set(tenant, Math.max(bounds.get(tenant) ?? 0, ms));
    }
    return bounds;
  }

  /** Event ids of the records of every blob created since `sinceMs` (by contentCreated). */
  async expectedEventIds(tenantId: string, sinceMs: number): Promise<Set<string>> {
    const truth = await this.sim.expectedRecords(tenantId, { sinceContentCreated: sinceMs });
    const ids = new Set<string>();
    for (const record of truth.records.values()) {
      const result = normalize(JSON.parse(record.json.replace(/^\uFEFF/, '')), { tenantId, now: () => new Date() });
      if (result.kind === 'event') ids.add(result.event.event.id);
    }
    return ids;
  }

  /** Every event in the events topic (read_committed): per tenant, id → number of copies. */
  async readEvents(): Promise<Map<string, Map<string, number>>> {
    const byTenant = new Map<string, Map<string, number>>(this.tenantIds.map((t) => [t, new Map<string, number>()]));
    await readToEnd(this.kafka, {
      topic: this.config.kafka.topics.events,
      deadlineMs: 300_000,
      groupIdPrefix: 'chaos-verifier',
      onMessage: (message) => {
        const tenant = message.headers?.['tenant-id']?.toString() ?? '';
        const id = message.key?.toString() ?? '';
        let ids = byTenant.get(tenant);
        if (ids === undefined) byTenant.set(tenant, (ids = new Map<string, number>()));
        ids.set(id, (ids.get(id) ?? 0) + 1);
      },
    });
    return byTenant;
  }

  /** The committed cursor of every tenant (read_committed, last record per key wins). */
  async readCursors(): Promise<Map<string, Cursor>> {
    const cursors = new Map<string, Cursor>();
    await readToEnd(this.kafka, {
      topic: this.config.kafka.topics.cursors,
      deadlineMs: 120_000,
      groupIdPrefix: 'chaos-verifier',
      onMessage: (message) => {
        const decoded = decodeCursorRecord(message.key, message.value);
        if (decoded.kind === 'cursor') cursors.set(decoded.key.split('|')[0] ?? '', decoded.cursor);
      },
    });
    return cursors;
  }

  /** Compares the events topic with the simulator's ground truth. */
  async countEvents(): Promise<EventCounts> {
    const published = await this.readEvents();
    const lowerBounds = this.firstRunLowerBounds();
    const counts: EventCounts = { generated: 0, publishedUnique: 0, lost: 0, duplicates: 0, extra: 0, unexpected: 0, lostSample: [] };
    for (const tenant of this.tenantIds) {
      const since = lowerBounds.get(tenant);
      if (since === undefined) throw new Error(`No connector process logged the first-run lower bound of tenant ${tenant}`);
      const required = await this.expectedEventIds(tenant, since);
      // Anything the simulator listed may be published: the first window reaches back by the overlap.
      const allowed = await this.expectedEventIds(tenant, this.#startMs - 7 * 24 * 3600_000);
      const ids = published.get(tenant) ?? new Map<string, number>();
      counts.generated += required.size;
      for (const id of required) {
        if (ids.has(id)) counts.publishedUnique += 1;
        else if (counts.lostSample.length < 5) counts.lostSample.push(`${tenant}/${id}`);
      }
      for (const [id, copies] of ids) {
        counts.duplicates += copies - 1;
        if (!required.has(id)) {
          if (allowed.has(id)) counts.extra += 1;
          else counts.unexpected += 1;
        }
      }
    }
    for (const [tenant, ids] of published) if (!this.tenantIds.includes(tenant)) counts.unexpected += ids.size;
    counts.lost = counts.generated - counts.publishedUnique;
    return counts;
  }

  async close(options: { keepDir: boolean }): Promise<void> {
    for (const proc of this.processes) if (proc.alive) proc.kill('SIGKILL');
    await Promise.all(this.processes.map((p) => p.exited));
    await this.sim.close();
    if (!options.keepDir) await rm(this.dir, { recursive: true, force: true });
  }
}

/** The one line a chaos run ends with; scripts and the CI test parse it. */
export function resultLine(counts: Pick<EventCounts, 'generated' | 'publishedUnique' | 'duplicates' | 'lost'>): string {
  return `generated=${counts.generated} published_unique=${counts.publishedUnique} duplicates=${counts.duplicates} lost=${counts.lost}`;
}
