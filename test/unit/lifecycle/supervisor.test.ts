import { afterEach, describe, expect, it } from 'vitest';
import type { Cursor } from '../../../src/contracts/checkpoint.ts';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import type { TenantRecord } from '../../../src/contracts/tenant-registry.ts';
import type { PollerConditions } from '../../../src/lifecycle/connection.ts';
import { MemoryTenantRegistry } from '../../../src/lifecycle/memory-registry.ts';
import { newTenantRecord } from '../../../src/lifecycle/records.ts';
import type { Supervisor} from '../../../src/lifecycle/supervisor.ts';
import { type StatusEvent, type TenantRuntime } from '../../../src/lifecycle/supervisor.ts';
import type { ConnectionState } from '../../../src/lifecycle/state-machine.ts';
import { testSupervisor } from '../../support/supervisor.ts';
import { ManualClock, waitFor } from '../../support/time.ts';

const ID = '11111111-1111-4111-8111-111111111111';
const DAY = 86_400_000;

/** A poller stand-in: runs until aborted, and lets the test report conditions as a real poller would. */
class FakeRuntimes {
  readonly started: string[] = [];
  readonly stopSubscriptionCalls: string[] = [];
  conditions: PollerConditions | undefined;
  initialCursor: (() => Cursor | undefined) | undefined;
  stopSubscriptionFails = false;
  running = 0;
  /** What the poller reports as reached when it stops. */
  reached: Cursor | undefined;

  create = (record: TenantRecord, conditions: PollerConditions, initialCursor: () => Cursor | undefined): TenantRuntime => ({
    run: async (signal) => {
      this.started.push(record.id);
      this.conditions = conditions;
      this.initialCursor = initialCursor;
      this.running += 1;
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      this.running -= 1;
    },
    lastCursor: () => this.reached,
    stopSubscription: () => {
      this.stopSubscriptionCalls.push(record.id);
      return this.stopSubscriptionFails ? Promise.reject(new Error('AF10001 token refused')) : Promise.resolve();
    },
  });
}

interface World {
  clock: ManualClock;
  registry: MemoryTenantRegistry;
  runtimes: FakeRuntimes;
  supervisor: Supervisor;
  events: StatusEvent[];
  cursors: Map<string, Cursor>;
  state(): ConnectionState | undefined;
}

let worlds: World[] = [];
afterEach(async () => {
  await Promise.all(worlds.map((w) => w.supervisor.stop()));
  worlds = [];
});

const CURSOR: Cursor = { lowerBound: '2026-01-15T10:00:00.000Z', done: { 'blob-1': '2026-01-15T10:00:00.000Z' }, updatedAt: '2026-01-15T11:00:00.000Z' };

function world(initial: TenantRecord[] = [], owns?: (tenantId: string) => boolean): World {
  const clock = new ManualClock();
  const registry = new MemoryTenantRegistry(initial);
  const runtimes = new FakeRuntimes();
  const { supervisor, cursors, events } = testSupervisor({ registry, clock, createRuntime: runtimes.create, cursors: new Map<string, Cursor>([[ID, CURSOR]]), ...(owns === undefined ? {} : { owns }) });
  const w: World = { clock, registry, runtimes, supervisor, events, cursors, state: () => registry.get(ID)?.status.state };
  worlds.push(w);
  return w;
}

async function change(w: World, patch: Partial<TenantRecord>): Promise<void> {
  const record = w.registry.get(ID);
  if (record === undefined) throw new Error('no record');
  await w.registry.put({ ...record, ...patch });
  await w.supervisor.settled();
}

async function addPending(w: World): Promise<void> {
  w.supervisor.start();
  await w.registry.put(newTenantRecord({ id: ID, displayName: 'Contoso', cloud: 'commercial', plan: 'E5' }, 'api', w.clock.now()));
  await w.supervisor.settled();
}

/** Drives a tenant to the given state the way production does. */
async function reach(w: World, state: ConnectionState): Promise<void> {
  await addPending(w);
  if (state === 'PendingConsent') return;
  await w.supervisor.dispatch(ID, { type: 'consent-granted' });
  await waitFor(() => w.runtimes.running === 1, { what: 'the poller to run' });
  w.runtimes.conditions?.subscribed();
  await w.supervisor.settled();
  if (state === 'Initializing') return;
  if (state === 'Error') {
    w.runtimes.conditions?.failed(new ConnectorError('AUTH_BAD_SECRET', 'revoked', { stage: 'auth', retriable: false }));
    await w.supervisor.settled();
    return;
  }
  w.runtimes.conditions?.listed(5);
  await w.supervisor.settled();
  if (state === 'Monitoring') return;
  if (state === 'Maintenance') {
    await change(w, { maintenance: { from: new Date(w.clock.now()).toISOString(), to: new Date(w.clock.now() + 6 * 3600_000).toISOString() } });
    return;
  }
  if (state === 'Paused') await change(w, { desiredState: 'paused' });
}

describe('Supervisor', () => {
  it('runs only the tenants of shards owned here; a tenant whose shard moved away is stopped, forgotten, and restarts from the store when it returns', async () => {
    let owned = true;
    const w = world([], () => owned);
    await reach(w, 'Monitoring');
    const reached: Cursor = { ...CURSOR, lowerBound: '2026-01-15T12:00:00.000Z' };
    w.runtimes.reached = reached;
    owned = false;
    await w.supervisor.rebalance();
    expect(w.supervisor.isRunning(ID)).toBe(false);
    expect(w.supervisor.statuses()).toEqual({});
    const revision = w.registry.get(ID)?.revision;
    // A change of a tenant owned elsewhere (its owner writes its status) is not acted on here.
    await change(w, { desiredState: 'paused' });
    expect(w.registry.get(ID)?.status.state).toBe('Monitoring');
    expect(w.registry.get(ID)?.revision).toBe((revision ?? 0) + 1);
    await change(w, { desiredState: 'active' });
    owned = true;
    await w.supervisor.rebalance();
    await waitFor(() => w.runtimes.running === 1, { what: 'the poller to start again' });
    expect(w.supervisor.statuses()[ID]?.state).toBe('Monitoring');
    // Not where this process's poller got to: the new owner meanwhile moved it on; the store has its cursor.
    expect(w.runtimes.initialCursor?.()).toBeUndefined();
  });

  it('keeps what a stopped supervisor last ran: a change applied after the shards were given up does not forget the tenant', async () => {
    let owned = true;
    const w = world([], () => owned);
    await reach(w, 'Monitoring');
    await w.supervisor.stop();
    // The order of a replica's shutdown: pollers stopped, then the shard group leaves, then a late registry notification.
    owned = false;
    await change(w, { displayName: 'Contoso Ltd' });
    await w.supervisor.rebalance();
    expect(w.supervisor.statuses()[ID]?.state).toBe('Monitoring');
  });

  it('takes one tenant from PendingConsent through Initializing to Monitoring, with history and status events', async () => {
    const w = world();
    await addPending(w);
    expect(w.state()).toBe('PendingConsent');
    expect(w.supervisor.isRunning(ID)).toBe(false);
    await w.supervisor.dispatch(ID, { type: 'consent-granted' });
    await waitFor(() => w.runtimes.running === 1, { what: 'the poller to start' });
    expect(w.state()).toBe('Initializing');
    w.runtimes.conditions?.subscribed();
    w.runtimes.conditions?.listed(0);
    w.runtimes.conditions?.listed(3);
    await w.supervisor.settled();
    expect(w.state()).toBe('Monitoring');
    expect(w.registry.get(ID)?.history.map((h) => `${h.from}>${h.to}`)).toEqual(['PendingConsent>Initializing', 'Initializing>Initializing', 'Initializing>Monitoring']);
    expect(w.events.map((e) => [e.tenantId, e.to, e.reason])).toEqual([
      [ID, 'Initializing', 'consent-granted'],
      [ID, 'Initializing', 'subscribed'],
      [ID, 'Monitoring', 'first-content'],
    ]);
  });

  it('starts a tenant added while running and stops it on pause at once, resumes without a restart', async () => {
    const w = world();
    await reach(w, 'Monitoring');
    await change(w, { desiredState: 'paused' });
    expect(w.runtimes.running).toBe(0);
    expect(w.state()).toBe('Paused');
    await change(w, { desiredState: 'active' });
    await waitFor(() => w.runtimes.running === 1, { what: 'the poller to restart' });
    expect(w.state()).toBe('Initializing');
    w.runtimes.conditions?.listed(1);
    await w.supervisor.settled();
    expect(w.state()).toBe('Monitoring');
  });

  it('restarts a resumed poller where its predecessor got to, not at the store\'s stale cursor, and parks that one on deauthorization', async () => {
    const w = world();
    await reach(w, 'Monitoring');
    const reached: Cursor = { ...CURSOR, lowerBound: '2026-01-15T11:30:00.000Z' };
    w.runtimes.reached = reached;
    await change(w, { desiredState: 'paused' });
    await change(w, { desiredState: 'active' });
    await waitFor(() => w.runtimes.running === 1, { what: 'the resumed poller' });
    expect(w.runtimes.initialCursor?.()).toEqual(reached);
    await change(w, { desiredState: 'deauthorized' });
    expect(w.registry.get(ID)?.parkedCursor).toEqual(reached);
  });

  it('records a failed verification reported by the poller as Error with its reason, and leaves it when the poller recovers', async () => {
    const w = world();
    await addPending(w);
    await w.supervisor.dispatch(ID, { type: 'consent-granted' });
    await waitFor(() => w.runtimes.running === 1, { what: 'the poller after consent' });
    w.runtimes.conditions?.failed(new ConnectorError('AUTH_ROLE_MISSING', 'no ActivityFeed.Read', { stage: 'auth', retriable: false }));
    await w.supervisor.settled();
    expect(w.registry.get(ID)?.status).toMatchObject({ state: 'Error', reason: 'permission-missing', code: 'AUTH_ROLE_MISSING' });
    // The poller keeps running (it retries verification with its own backoff), so it is not restarted.
    expect(w.runtimes.started).toEqual([ID]);
    w.runtimes.conditions?.subscribed();
    await w.supervisor.settled();
    expect(w.state()).toBe('Initializing');
  });

  it.each(['PendingConsent', 'Initializing', 'Monitoring', 'Error', 'Maintenance', 'Paused'] as const)(
    'deauthorizes from %s: poller stopped, subscription stop tried, cursor tombstoned and parked, record marked, event published',
    async (state) => {
      const w = world();
      await reach(w, state);
      expect(w.state()).toBe(state);
      w.runtimes.stopSubscriptionFails = state === 'Error';
      await change(w, { desiredState: 'deauthorized' });
      expect(w.runtimes.running).toBe(0);
      expect(w.state()).toBe('Deauthorized');
      expect(w.cursors.has(ID)).toBe(false);
      const record = w.registry.get(ID);
      expect(record?.deauthorizedAt).toBe(new Date(w.clock.now()).toISOString());
      expect(record?.parkedCursor).toEqual(CURSOR);
      expect(w.events.at(-1)).toMatchObject({ tenantId: ID, from: state, to: 'Deauthorized', reason: 'deauthorized' });
      expect(w.runtimes.stopSubscriptionCalls).toEqual(state === 'PendingConsent' ? [] : [ID]);
    },
  );

  it('resumes a deauthorized tenant within 90 days from its parked cursor', async () => {
    const w = world();
    await reach(w, 'Monitoring');
    await change(w, { desiredState: 'deauthorized' });
    w.clock.advance(89 * DAY);
    await w.supervisor.sweep();
    expect(w.registry.get(ID)).toBeDefined();
    await change(w, { desiredState: 'active' });
    await waitFor(() => w.runtimes.running === 1, { what: 'the resumed poller' });
    expect(w.runtimes.initialCursor?.()).toEqual(CURSOR);
    expect(w.state()).toBe('Initializing');
    expect(w.registry.get(ID)?.deauthorizedAt).toBeUndefined();
  });

  it('purges a tenant deauthorized for 90 days: record and cursor gone, so a resume finds nothing', async () => {
    const w = world();
    await reach(w, 'Monitoring');
    await change(w, { desiredState: 'deauthorized' });
    const published = w.events.length;
    w.clock.advance(90 * DAY);
    await w.supervisor.sweep();
    expect(w.registry.get(ID)).toBeUndefined();
    expect(w.cursors.has(ID)).toBe(false);
    expect(w.events.length).toBe(published);
  });

  it('enters Maintenance at the start of a scheduled window and leaves it at its end, monitoring throughout', async () => {
    const w = world();
    await reach(w, 'Monitoring');
    const from = w.clock.now() + 3600_000;
    await change(w, { maintenance: { from: new Date(from).toISOString(), to: new Date(from + 6 * 3600_000).toISOString() } });
    expect(w.state()).toBe('Monitoring');
    w.clock.set(from);
    await w.supervisor.sweep();
    expect(w.state()).toBe('Maintenance');
    expect(w.runtimes.running).toBe(1);
    w.clock.set(from + 6 * 3600_000);
    await w.supervisor.sweep();
    expect(w.state()).toBe('Monitoring');
    expect(w.registry.get(ID)?.history.slice(-2).map((h) => h.reason)).toEqual(['maintenance-started', 'maintenance-ended']);
  });

  it('holds an imported legacy tenant until its upgrade window opens, then starts from the legacy position', async () => {
    const imported: TenantRecord = {
      ...newTenantRecord({ id: ID, cloud: 'commercial', plan: 'E3' }, 'legacy-import', Date.UTC(2026, 0, 15, 12)),
      status: { state: 'Initializing', reason: 'consent-granted', remedy: '', since: '2026-01-15T12:00:00.000Z', consentedAt: '2026-01-15T12:00:00.000Z' },
      legacy: { lastCollectedTime: '2026-01-14T00:00:00.000Z', lastContentIds: ['a', 'b'], importedAt: '2026-01-15T12:00:00.000Z' },
      maintenance: { from: '2026-01-17T00:00:00.000Z', to: '2026-01-17T06:00:00.000Z' },
    };
    const w = world([imported]);
    w.cursors.clear();
    w.supervisor.start();
    await w.supervisor.settled();
    expect(w.supervisor.isRunning(ID)).toBe(false);
    w.clock.set(Date.parse('2026-01-17T00:00:00Z'));
    await w.supervisor.sweep();
    await waitFor(() => w.runtimes.running === 1, { what: 'the upgraded poller' });
    expect(w.state()).toBe('Maintenance');
    expect(w.runtimes.initialCursor?.()).toEqual({
      lowerBound: '2026-01-14T00:00:00.000Z',
      done: { a: '2026-01-14T00:00:00.000Z', b: '2026-01-14T00:00:00.000Z' },
      notBefore: '2026-01-14T00:00:00.000Z',
      updatedAt: '2026-01-15T12:00:00.000Z',
    });
  });
});
