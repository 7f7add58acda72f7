import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Agent, request } from 'undici';
import { afterEach, beforeEach, expect } from 'vitest';
import { systemClock, type Clock } from '../../src/contracts/clock.ts';
import type { ConnectorConfig } from '../../src/config/schema.ts';
import type { Connector } from '../../src/runtime/connector.ts';
import { ManualClock, type RunningSimulator, type SimulatorOptions, type TenantOptions } from '../../src/simulator/index.ts';
import { generateTlsMaterial, type TlsMaterial } from '../../src/simulator/tls.ts';
import { createLogger, type Logger } from '../../src/telemetry/logger.ts';
import { normalize } from '../../src/transform/normalize/index.ts';
import { requireBroker } from './kafka.ts';
import { PipelineHarness } from './pipeline-harness.ts';
import { waitFor } from './time.ts';

/**
 * Helpers of the fault matrix (test/integration/faults): a small synthetic tenant behind the
 * simulator, a connector logging into memory, counters read from the connector's prom-client
 * registry, and the comparison of what Kafka holds with what the simulator served.
 */

/** Small enough for a shared 2-core machine, big enough for a few listing pages and blobs. */
export const SMALL_TENANT: TenantOptions = { eventsPerHour: 20, historyHours: 6, recordsPerBlob: 5 };

export interface MemoryLog {
  logger: Logger;
  /** Parsed log lines so far. */
  lines(): Array<Record<string, unknown>>;
  /** Lines at or above `level` (pino numbers: 40 warn, 50 error) whose fields match. */
  find(level: number, fields?: Record<string, unknown>): Array<Record<string, unknown>>;
}

export function memoryLogger(level = 'debug'): MemoryLog {
  const raw: string[] = [];
  const logger = createLogger({ level, destination: { write: (line: string) => void raw.push(line) } });
  const lines = (): Array<Record<string, unknown>> => raw.flatMap((chunk) => chunk.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Record<string, unknown>));
  return {
    logger,
    lines,
    find: (min, fields = {}) => lines().filter((l) => Number(l['level']) >= min && Object.entries(fields).every(([k, v]) => l[k] === v)),
  };
}

/** A ManualClock that stands still a little behind the wall clock, so the connector's windows always reach past it. */
export function frozenClock(): ManualClock {
  return new ManualClock(Date.now() - 10 * 60_000);
}

/** Wall-clock time minus `lagMs`: moves (quotas free up, tokens expire) yet stays behind the connector's windows. */
export function laggingClock(lagMs = 10 * 60_000): Clock {
  return { now: () => Date.now() - lagMs, sleep: (ms, signal) => systemClock.sleep(ms, signal) };
}

export interface FaultRunOptions {
  seed: string;
  tenants?: TenantOptions[];
  simulator?: Partial<SimulatorOptions>;
  connector?: Partial<ConnectorConfig['connector']>;
  deliveryMode?: 'exactly-once' | 'at-least-once';
  /** The simulator's clock; default frozen (ground truth fixed). */
  clock?: Clock;
}

export interface FaultRun {
  harness: PipelineHarness;
  sim: RunningSimulator;
  log: MemoryLog;
  tls: TlsMaterial;
  /** Tenant ids in simulator order. */
  ids: string[];
}

let tlsMaterial: TlsMaterial | undefined;

export async function startFaultRun(options: FaultRunOptions): Promise<FaultRun> {
  tlsMaterial ??= generateTlsMaterial(['localhost'], ['127.0.0.1']);
  const log = memoryLogger();
  const harness = await PipelineHarness.start({
    simulator: {
      seed: options.seed,
      tenants: options.tenants ?? [{ ...SMALL_TENANT }],
      clock: options.clock ?? frozenClock(),
      tls: tlsMaterial,
      // A frozen clock would otherwise refuse every re-subscription for "14m 56s".
      startCooldownMinutes: 0,
      ...options.simulator,
    },
    ...(options.deliveryMode === undefined ? {} : { deliveryMode: options.deliveryMode }),
    connector: { ...options.connector },
    logger: log.logger,
  });
  const close = harness.close.bind(harness);
  // FAULTS_LOG_DIR=<dir> keeps each run's connector log for a look after a failure.
  harness.close = async () => {
    const dir = process.env['FAULTS_LOG_DIR'];
    if (dir !== undefined) await writeFile(join(dir, `${options.seed}.ndjson`), log.lines().map((l) => JSON.stringify(l)).join('\n'));
    await close();
  };
  return { harness, sim: harness.sim, log, tls: tlsMaterial, ids: harness.sim.tenants.map((t) => t.id) };
}

interface MetricLike {
  get(): Promise<{ values: Array<{ value: number; labels: Partial<Record<string, string | number>> }> }>;
}

/** Sum of a counter's (or gauge's) values whose labels match `labels`. */
export async function total(metric: MetricLike, labels: Record<string, string> = {}): Promise<number> {
  const { values } = await metric.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => String(v.labels[k]) === want)).reduce((sum, v) => sum + v.value, 0);
}

/** One tenant listed up to the simulator's present with nothing in flight. */
export function tenantCaughtUp(connector: Connector, sim: RunningSimulator, tenantId: string): boolean {
  const progress = connector.progress()[tenantId];
  return progress?.listedUpToMs !== undefined && progress.listedUpToMs >= sim.clock.now() - 10_000 && progress.pendingBlobs === 0;
}

export async function waitTenantCaughtUp(connector: Connector, sim: RunningSimulator, tenantId: string, timeoutMs = 120_000): Promise<void> {
  await waitFor(() => tenantCaughtUp(connector, sim, tenantId), { timeoutMs, intervalMs: 200, what: `tenant ${tenantId} to catch up` });
}

/** Ids of the records the normalizer turns into events, in every blob the simulator lists now. */
export async function eventIdsServed(sim: RunningSimulator, tenantId: string, untilMs?: number): Promise<Set<string>> {
  const truth = await sim.expectedRecords(tenantId, untilMs === undefined ? {} : { untilContentCreated: untilMs });
  const ids = new Set<string>();
  for (const record of truth.records.values()) {
    if (isEvent(record.json, tenantId)) ids.add(record.id);
  }
  return ids;
}

export function isEvent(json: string, tenantId: string): boolean {
  return normalize(JSON.parse(json.replace(/^\uFEFF/, '')) as unknown, { tenantId, now: () => new Date() }).kind === 'event';
}

export interface Published {
  /** Event ids in Kafka (read_committed), with repeats. */
  all: string[];
  unique: Set<string>;
}

export async function publishedIds(harness: PipelineHarness, tenantId: string): Promise<Published> {
  const all = (await harness.readEvents()).filter((e) => e.tenant === tenantId).map((e) => e.id);
  return { all, unique: new Set(all) };
}

/**
 * Every event the simulator served is in Kafka exactly once (no repeats: exactly-once mode), except
 * `excused` ids (accounted for elsewhere, e.g. in a dead letter); nothing is there that was not served.
 */
export async function expectComplete(run: FaultRun, tenantId: string, options: { excused?: Set<string>; allowRepeats?: boolean; untilMs?: number } = {}): Promise<Published> {
  const expected = await eventIdsServed(run.sim, tenantId);
  // A moving simulator clock keeps creating blobs: only those before the connector's last listing are owed.
  const owed = options.untilMs === undefined ? expected : await eventIdsServed(run.sim, tenantId, options.untilMs);
  const published = await publishedIds(run.harness, tenantId);
  const missing = [...owed].filter((id) => !published.unique.has(id) && options.excused?.has(id) !== true);
  const unexpected = [...published.unique].filter((id) => !expected.has(id));
  expect({ missing, unexpected }).toEqual({ missing: [], unexpected: [] });
  if (options.allowRepeats !== true) expect(published.all.length).toBe(published.unique.size);
  expect(expected.size).toBeGreaterThan(10);
  return published;
}

export async function deadLetters(harness: PipelineHarness, tenantId?: string): Promise<Array<Record<string, unknown>>> {
  return (await harness.readDeadLetters()).filter((d) => tenantId === undefined || d['tenantId'] === tenantId);
}

/** Simulator time of the tenant's last successful listing request. */
export function lastListingAt(sim: RunningSimulator, tenantId: string): number {
  return Math.max(0, ...sim.stats.requests.filter((r) => r.tenantId === tenantId && r.endpoint === 'subscriptions-content' && r.status === 200).map((r) => r.at));
}

/** Content ids of the blobs the simulator lists for the tenant now. */
export async function listedBlobIds(sim: RunningSimulator, tenantId: string): Promise<string[]> {
  return (await sim.expectedRecords(tenantId)).blobs.map((b) => b.contentId);
}

/** The content id of a blob request in sim.stats. */
export function contentIdOf(path: string): string {
  const match = /\/activity\/feed\/audit\/([^?]+)/.exec(path);
  return decodeURIComponent(match?.[1] ?? '');
}

/**
 * Calls the simulated API for a tenant with our own token, as a tenant admin's tool would (call it
 * outside the connector's busy moments: it goes through the same guard and uses up counted faults).
 */
export async function callApi(sim: RunningSimulator, tenantId: string, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: Buffer }> {
  const agent = new Agent({ connect: { ca: sim.caPem } });
  try {
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: sim.scope });
    const tokenAnswer = await request(sim.tokenUrl(tenantId), { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    const { access_token: token } = (await tokenAnswer.body.json()) as { access_token: string };
    const separator = path.includes('?') ? '&' : '?';
    const answer = await request(`${sim.feedUrl(tenantId)}/${path}${separator}PublisherIdentifier=${tenantId}`, { method, dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
    return { status: answer.statusCode, body: Buffer.from(await answer.body.arrayBuffer()) };
  } finally {
    await agent.close();
  }
}

/** A blob exactly as the simulator serves it (BOM included). */
export async function fetchBlobRaw(sim: RunningSimulator, tenantId: string, contentId: string): Promise<Buffer> {
  const { status, body } = await callApi(sim, tenantId, 'GET', `audit/${contentId}`);
  if (status !== 200) throw new Error(`blob ${contentId}: HTTP ${status} ${body.toString('utf8').slice(0, 200)}`);
  return body;
}

/** The records of a served blob body (BOM allowed), in order. */
export function blobRecords(body: Buffer): Array<{ id: string; json: string }> {
  const text = body.toString('utf8').replace(/^\uFEFF/, '');
  return (JSON.parse(text) as Array<Record<string, unknown>>).map((r) => ({ id: String(r['Id']), json: JSON.stringify(r) }));
}

export interface ForeignOrigin {
  origin: string;
  /** Requests the foreign host received: path and whether an Authorization header came with it. */
  requests: Array<{ path: string; authorization: string | undefined }>;
  close(): Promise<void>;
}

/**
 * A TLS server on another port with the simulator's certificate: a host the connector could reach
 * (it trusts the CA) but must never send the token to. Answers 200 [] to anything.
 */
export async function startForeignOrigin(tls: TlsMaterial): Promise<ForeignOrigin> {
  const requests: ForeignOrigin['requests'] = [];
  const server: Server = createServer({ key: tls.keyPem, cert: tls.certPem }, (req, res) => {
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    res.writeHead(200, { 'content-type': 'application/json' }).end('[]');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `https://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Publication progress, for starting a fault "mid-run". */
export async function eventsPublished(connector: Connector, tenantId: string): Promise<number> {
  return total(connector.metrics.eventsPublished, { tenant: tenantId });
}

/**
 * The per-test lifecycle every fault-matrix file shares: fail (not skip) without a broker, then stop
 * the test's connector and close its simulator, whatever the test left behind.
 */
export function closeFaultRunAfterEach(current: () => { run: FaultRun | undefined; connector: Connector | undefined }, clear: () => void): void {
  beforeEach(requireBroker);
  afterEach(async () => {
    const { run, connector } = current();
    await connector?.stop();
    await run?.harness.close();
    clear();
  });
}
