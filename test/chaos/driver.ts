/**
 * Chaos driver: `node test/chaos/driver.ts [flags]` (or `npm run test:chaos -- [flags]`, which also
 * starts a broker). Kills the connector with SIGKILL at seeded random moments while it collects a
 * large synthetic backlog, optionally stops and starts the broker under it, then checks the events
 * topic against the simulator's ground truth. Ends with the line
 *   generated=N published_unique=N duplicates=D lost=L
 * and exits non-zero when anything is lost, or duplicated in exactly-once mode. See docs/chaos.md.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { runChaos, summary, type ChaosOptions } from './lib/chaos-run.ts';
import { runReplicas, type ReplicaStep } from './lib/replica-run.ts';
import { PROJECT_ROOT } from './lib/world.ts';

const HELP = `usage: node test/chaos/driver.ts [flags]   (every flag also reads CHAOS_<NAME>, e.g. CHAOS_KILLS)
  --mode <m>               exactly-once (default) | at-least-once
  --tenants <n>            synthetic tenants (default 4)
  --events-per-hour <n>    records per tenant per hour over the 7-day backlog (default 90)
  --kills <n>              SIGKILLs at random moments, each followed by a restart (default 20)
  --seed <s>               seed of the data and of the kill moments (default chaos)
  --kill-min-ms <n>        shortest delay from "ready" to a kill (default 1000)
  --kill-max-ms <n>        longest delay from "ready" to a kill (default 10000)
  --broker-outage          stop the broker for 10–20 s under a running connector (scripts/kafka.sh stop/start)
  --outage-after-kills <n> when: under the connector started after this many kills (default kills/2)
  --outage-seconds <n>     outage length (default seeded, 10–20)
  --timeout-seconds <n>    give up waiting for the catch-up after this long (default 1800)
  --shutdown-timeout <n>   connector.shutdownTimeoutSeconds (default 20)
  --late-tail <f>          share of blobs the simulator lists 6 h, 24 h or 3 days late (default 0: off); then, after
                           the catch-up, its clock moves 2 h and the reconciliation sweep must collect the blobs
                           released (with a SIGKILL in the middle of the sweep)
  --kafka-client <c>       the sink's Kafka client: kafkajs | platformatic (default: the configuration's, kafkajs)
  --replicas <n>           scale-out form (docs/scaling.md): n replicas share 30 tenants (or --tenants) through the
                           shard group; --kills SIGKILLs of random replicas, each followed by a new one, a freeze past
                           the session timeout halfway and a SIGTERM at the end; no tenant may be owned twice
  --keep                   keep the run directory (config, connector logs) even when the run passes
Kafka: KAFKA_BROKERS (default 127.0.0.1:$KAFKA_PORT); the outage runs scripts/kafka.sh with this environment.`;

const { values } = parseArgs({
  options: {
    mode: { type: 'string' },
    tenants: { type: 'string' },
    'events-per-hour': { type: 'string' },
    kills: { type: 'string' },
    seed: { type: 'string' },
    'kill-min-ms': { type: 'string' },
    'kill-max-ms': { type: 'string' },
    'broker-outage': { type: 'boolean' },
    'outage-after-kills': { type: 'string' },
    'outage-seconds': { type: 'string' },
    'timeout-seconds': { type: 'string' },
    'shutdown-timeout': { type: 'string' },
    keep: { type: 'boolean' },
    'late-tail': { type: 'string' },
    'kafka-client': { type: 'string' },
    replicas: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  strict: true,
});

if (values.help === true) {
  console.log(HELP);
  process.exit(0);
}

function setting(name: keyof typeof values): string | boolean | undefined {
  const env = process.env[`CHAOS_${name.toUpperCase().replaceAll('-', '_')}`];
  return values[name] ?? (env === undefined || env === '' ? undefined : env);
}

function int(name: keyof typeof values, fallback: number): number;
function int(name: keyof typeof values, fallback: undefined): number | undefined;
function int(name: keyof typeof values, fallback: number | undefined): number | undefined {
  const raw = setting(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer (got ${String(raw)})\n${HELP}`);
    process.exit(2);
  }
  return n;
}

function flag(name: keyof typeof values): boolean {
  const raw = setting(name);
  return raw === true || raw === '1' || raw === 'true';
}

const mode = String(setting('mode') ?? 'exactly-once');
if (mode !== 'exactly-once' && mode !== 'at-least-once') {
  console.error(`--mode must be exactly-once or at-least-once (got ${mode})`);
  process.exit(2);
}
const brokers = (process.env['KAFKA_BROKERS'] ?? `127.0.0.1:${process.env['KAFKA_PORT'] ?? '19092'}`).split(',').map((b) => b.trim()).filter((b) => b.length > 0);
const runId = `chaos-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
const outageAfterKills = int('outage-after-kills', undefined);
const outageSeconds = int('outage-seconds', undefined);
const lateTailRaw = setting('late-tail');
const lateTail = lateTailRaw === undefined ? 0 : Number(lateTailRaw);
if (!Number.isFinite(lateTail) || lateTail < 0 || lateTail > 1) {
  console.error(`--late-tail must be a number from 0 to 1 (got ${String(lateTailRaw)})`);
  process.exit(2);
}
const kafkaClient = setting('kafka-client');
if (kafkaClient !== undefined && kafkaClient !== 'kafkajs' && kafkaClient !== 'platformatic') {
  console.error(`--kafka-client must be kafkajs or platformatic (got ${String(kafkaClient)})`);
  process.exit(2);
}
const options: ChaosOptions = {
  mode,
  tenants: int('tenants', 4),
  eventsPerHour: int('events-per-hour', 90),
  seed: String(setting('seed') ?? 'chaos'),
  kills: int('kills', 20),
  killMinMs: int('kill-min-ms', 1000),
  killMaxMs: int('kill-max-ms', 10_000),
  brokerOutage: flag('broker-outage'),
  ...(outageAfterKills === undefined ? {} : { outageAfterKills }),
  ...(outageSeconds === undefined ? {} : { outageSeconds }),
  brokers,
  timeoutSeconds: int('timeout-seconds', 1800),
  shutdownTimeoutSeconds: int('shutdown-timeout', 20),
  dir: join(PROJECT_ROOT, '.run', 'chaos', runId),
  runId,
  keepDir: flag('keep'),
  ...(lateTail > 0 ? { lateTail } : {}),
  ...(kafkaClient === undefined ? {} : { kafkaClient }),
  log: (line) => console.error(`[chaos ${new Date().toISOString().slice(11, 19)}] ${line}`),
};
if (options.killMaxMs < options.killMinMs) {
  console.error('--kill-max-ms must be at least --kill-min-ms');
  process.exit(2);
}

const replicas = int('replicas', 0);
if (replicas > 0) {
  const sessionTimeoutSeconds = 6;
  const steps: ReplicaStep[] = [];
  for (let k = 0; k < options.kills; k += 1) {
    if (k === Math.floor(options.kills / 2)) steps.push({ kind: 'freeze', seconds: sessionTimeoutSeconds + 4 });
    steps.push({ kind: 'kill' }, { kind: 'start' });
  }
  steps.push({ kind: 'term' }, { kind: 'start' });
  const run = await runReplicas({
    tenants: setting('tenants') === undefined ? 30 : options.tenants,
    eventsPerHour: options.eventsPerHour,
    lookbackHours: 72,
    seed: options.seed,
    brokers,
    runId,
    dir: options.dir,
    shards: 16,
    sessionTimeoutSeconds,
    replicas,
    steps,
    stepGapMs: 3_000,
    randomVictims: true,
    timeoutSeconds: options.timeoutSeconds,
    log: options.log,
  });
  console.log(`replicas=${replicas} processes=${run.processes} takeover_seconds=${run.takeoverSeconds.map((t) => t.toFixed(1)).join(',')} status_rounds=${run.rounds} overlaps=${run.overlaps.length} elapsed=${run.elapsedSeconds.toFixed(0)}s`);
  for (const failure of run.failures) console.log(`FAIL ${failure}`);
  console.log(run.line);
  process.exit(run.failures.length === 0 ? 0 : 1);
}

const result = await runChaos(options);
for (const line of summary(result, options)) console.log(line);
if (!result.ok) console.log(`  run directory kept: ${options.dir}`);
console.log(result.line);
process.exitCode = result.ok ? 0 : 1;
