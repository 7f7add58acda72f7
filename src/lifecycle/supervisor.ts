import type { Clock } from '../contracts/clock.ts';
import type { Cursor } from '../contracts/checkpoint.ts';
import { ConnectorError, isConnectorError } from '../contracts/errors.ts';
import type { TenantRecord, TenantRegistry } from '../contracts/tenant-registry.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { Connection, pollerConditions, type PollerConditions } from './connection.ts';
import { CONNECTION_STATES, type ConnectionState, type ConnectionStatus, type HistoryEntry, type LifecycleEvent } from './state-machine.ts';

/** What the supervisor runs for one tenant; built by the composition root's poller factory. */
export interface TenantRuntime {
  /**
   * The poller: verifies access (token, ActivityFeed.Read role), subscribes, lists, delivers, and
   * reports each outcome through its PollerConditions; returns after `signal` aborted and in-flight
   * work drained.
   */
  run(signal: AbortSignal): Promise<void>;
  /** Best effort, on deauthorization. */
  stopSubscription(): Promise<void>;
  /** The cursor the poller reached (after run() returned: its final one); undefined before it loaded one. */
  lastCursor(): Cursor | undefined;
}

export type TenantRuntimeFactory = (record: TenantRecord, conditions: PollerConditions, initialCursor: () => Cursor | undefined) => TenantRuntime;


/** A transition as published on the connection-status topic (key = tenant id). */
export interface StatusEvent extends HistoryEntry {
  tenantId: string;
  remedy: string;
  code?: string;
}

export interface SupervisorDeps {
  registry: TenantRegistry;
  createRuntime: TenantRuntimeFactory;
  /** The tenant's cursor in the checkpoint store, and its removal (a tombstone) on deauthorization. */
  cursors: { load(tenantId: string): Cursor | undefined; forget(tenantId: string): Promise<void> };
  publishStatus: (event: StatusEvent) => Promise<void>;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  settings: { pollIntervalMs: number; deauthorizedRetentionMs: number; sweepIntervalMs: number };
  /**
   * Scale-out: whether this replica owns the tenant's shard now. A tenant it does not own is left
   * alone entirely (no poller, no status writes): its owner runs it. Default: every tenant.
   */
  owns?: (tenantId: string) => boolean;
  /** A tenant is no longer run here (its shard moved away): drop what is kept about it (metrics series). */
  onRelease?: (tenantId: string) => void;
}

interface Running {
  abort: AbortController;
  done: Promise<void>;
  runtime: TenantRuntime;
}

/**
 * Between the tenant registry and the pollers (DESIGN.md data flow). Operators and the admin API
 * change what is wanted of a tenant (desired state, maintenance window, legacy position, consent);
 * the supervisor reconciles: starts, stops and parks pollers and moves the connection state
 * machine. Changes arrive as registry notifications — from this process or another — so an add,
 * pause, resume or deauthorize takes effect at once, without a restart. Work is serialized per
 * tenant, so a pause racing a status write cannot lose either.
 */
export class Supervisor {
  readonly #d: SupervisorDeps;
  readonly #log: Logger;
  readonly #connections = new Map<string, Connection>();
  readonly #running = new Map<string, Running>();
  /**
   * Where each stopped poller got to. The checkpoint store only knows the cursors it read at start
   * (exactly-once cursors are written by the sink), so a poller restarted in this process (resume)
   * starts here rather than at the store's stale copy.
   */
  readonly #lastCursors = new Map<string, Cursor>();
  readonly #queues = new Map<string, Promise<void>>();
  /** Each tenant's state as counted in the connections gauge, and the counts per state. */
  readonly #counted = new Map<string, ConnectionState>();
  readonly #stateCounts = new Map<ConnectionState, number>(CONNECTION_STATES.map((state) => [state, 0]));
  readonly #stop = new AbortController();
  #sweep: Promise<void> | undefined;
  #stopped = false;

  constructor(deps: SupervisorDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'supervisor' });
    for (const state of CONNECTION_STATES) deps.metrics.connections.set({ state }, 0);
  }

  /** Call after the registry started; reconciles every record, then follows changes. */
  start(): void {
    this.#d.registry.onChange((record) => void this.#enqueue(record.id, () => this.#reconcile(record.id)));
    this.#d.registry.onRemove((tenantId) => void this.#enqueue(tenantId, () => this.#stopPoller(tenantId)));
    for (const record of this.#d.registry.list()) {
      if (this.#owns(record.id)) this.#connection(record);
      void this.#enqueue(record.id, () => this.#reconcile(record.id));
    }
    this.#sweep = this.#sweepLoop();
  }

  /** Waits until everything queued for the tenant (or for all tenants) has been applied. */
  async settled(tenantId?: string): Promise<void> {
    const pending = (): Array<Promise<void>> => {
      if (tenantId === undefined) return [...this.#queues.values()];
      const queue = this.#queues.get(tenantId);
      return queue === undefined ? [] : [queue];
    };
    for (let current = pending(); current.length > 0; current = pending()) await Promise.all(current);
  }

  statuses(): Record<string, ConnectionStatus> {
    return Object.fromEntries([...this.#connections].map(([id, c]) => [id, c.status]));
  }

  isRunning(tenantId: string): boolean {
    return this.#running.has(tenantId);
  }

  /** Applies an event decided outside the supervisor (consent callback); false when the table refuses it. */
  async dispatch(tenantId: string, event: LifecycleEvent): Promise<boolean> {
    let allowed = false;
    await this.#enqueue(tenantId, () => {
      const record = this.#d.registry.get(tenantId);
      if (record === undefined) return Promise.resolve();
      allowed = this.#connection(record).dispatch(event);
      return Promise.resolve();
    });
    if (allowed) await this.#enqueue(tenantId, () => this.#reconcile(tenantId));
    await this.settled(tenantId);
    return allowed;
  }

  /** Reconciles every tenant now (maintenance windows, purges); the sweep loop calls it. */
  async sweep(): Promise<void> {
    for (const tenantId of this.#d.registry.ids()) void this.#enqueue(tenantId, () => this.#reconcile(tenantId));
    await this.settled();
  }

  /**
   * Applies a change of ownership (scale-out): stops, and forgets, the tenants no longer owned, then
   * starts the ones newly owned. Resolves when every tenant was reconciled.
   */
  async rebalance(): Promise<void> {
    // Stopped: every poller is already stopped; what is kept stays readable (statuses after shutdown).
    if (this.#stopped) return;
    const ids = new Set([...this.#d.registry.ids(), ...this.#running.keys(), ...this.#connections.keys()]);
    for (const id of ids) void this.#enqueue(id, () => this.#reconcile(id));
    await this.settled();
  }

  /** Stops every poller (each drains); safe twice. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stop.abort(new Error('stopping'));
    await Promise.allSettled([...this.#running.keys()].map((id) => this.#stopPoller(id)));
    await this.#sweep?.catch(() => undefined);
  }

  #enqueue(tenantId: string, task: () => Promise<void>): Promise<void> {
    const previous = this.#queues.get(tenantId) ?? Promise.resolve();
    const next = previous.then(task).catch((error: unknown) => this.#log.error({ err: error, tenant: tenantId }, 'Applying a tenant change failed; it is retried at the next sweep'));
    this.#queues.set(tenantId, next);
    void next.finally(() => {
      if (this.#queues.get(tenantId) === next) this.#queues.delete(tenantId);
    });
    return next;
  }

  #connection(record: TenantRecord): Connection {
    let connection = this.#connections.get(record.id);
    if (connection === undefined) {
      connection = new Connection(record.id, () => this.#d.clock.now(), { status: record.status, history: record.history });
      connection.onTransition((tenantId, status, entry) => this.#onTransition(tenantId, status, entry));
      this.#connections.set(record.id, connection);
      this.#countState(record.id, connection.status.state);
    }
    return connection;
  }

  #onTransition(tenantId: string, status: ConnectionStatus, entry: HistoryEntry): void {
    this.#countState(tenantId, status.state);
    this.#d.metrics.connectionTransitions.inc({ state: status.state });
    const fields = { tenant: tenantId, from: entry.from, to: entry.to, reason: entry.reason, code: status.code, remedy: status.remedy };
    if (status.state === 'Error') this.#log.warn(fields, 'Connection status changed');
    else this.#log.info(fields, 'Connection status changed');
    const event: StatusEvent = { tenantId, ...entry, remedy: status.remedy, ...(status.code === undefined ? {} : { code: status.code }) };
    void this.#enqueue(tenantId, async () => {
      await this.#update(tenantId, (record) => ({ ...record, status, history: [...(this.#connections.get(tenantId)?.history ?? [])] }));
      await this.#d.publishStatus(event).catch((error: unknown) => {
        // Refused because the connector is stopping (the sink closed first): expected, not a problem.
        if (this.#stopped) this.#log.debug({ err: error, tenant: tenantId }, 'Status event not published: stopping');
        else this.#log.warn({ err: error, tenant: tenantId }, 'Publishing a status event failed');
      });
    });
  }

  /**
   * Tenants per state: seven series whatever the number of tenants (the cardinality budget,
   * docs/metrics.md). Counted as tenants change state, not by walking every connection on each
   * change: that was O(tenants²) while 10,000 tenants started. `undefined`: the tenant is gone.
   */
  #countState(tenantId: string, state: ConnectionState | undefined): void {
    const before = this.#counted.get(tenantId);
    if (before === state) return;
    const bump = (s: ConnectionState, by: number): void => {
      const count = (this.#stateCounts.get(s) ?? 0) + by;
      this.#stateCounts.set(s, count);
      this.#d.metrics.connections.set({ state: s }, count);
    };
    if (before !== undefined) bump(before, -1);
    if (state === undefined) this.#counted.delete(tenantId);
    else {
      this.#counted.set(tenantId, state);
      bump(state, 1);
    }
  }

  /** Reads the newest record, changes it, writes it back (only when something changed). */
  async #update(tenantId: string, change: (record: TenantRecord) => TenantRecord): Promise<TenantRecord | undefined> {
    const record = this.#d.registry.get(tenantId);
    if (record === undefined) return undefined;
    const next = change(record);
    if (JSON.stringify(next) === JSON.stringify(record)) return record;
    return this.#d.registry.put({ ...next, updatedAt: new Date(this.#d.clock.now()).toISOString() });
  }

  #owns(tenantId: string): boolean {
    return this.#d.owns?.(tenantId) ?? true;
  }

  /** Another replica runs the tenant now: stop it here and forget where it got to (its owner moves it on). */
  async #release(tenantId: string): Promise<void> {
    await this.#stopPoller(tenantId);
    this.#lastCursors.delete(tenantId);
    if (this.#connections.delete(tenantId)) {
      this.#countState(tenantId, undefined);
      this.#d.onRelease?.(tenantId);
    }
  }

  async #reconcile(tenantId: string): Promise<void> {
    // Stopped first: a change queued before stop (a status write's notification) may run after the
    // shard group gave the shards up; releasing then would drop what the replica last ran from statuses.
    if (this.#stopped) return;
    if (!this.#owns(tenantId)) return this.#release(tenantId);
    const record = this.#d.registry.get(tenantId);
    if (record === undefined) return;
    const connection = this.#connection(record);
    const now = this.#d.clock.now();
    if (record.desiredState === 'deauthorized') {
      if (connection.status.state !== 'Deauthorized') await this.#deauthorize(record, connection);
      else if (record.deauthorizedAt !== undefined && now - Date.parse(record.deauthorizedAt) >= this.#d.settings.deauthorizedRetentionMs) await this.#purge(record);
      return;
    }
    if (record.desiredState === 'paused') {
      await this.#stopPoller(tenantId);
      connection.dispatch({ type: 'paused' });
      return;
    }
    if (connection.status.state === 'Paused' || connection.status.state === 'Deauthorized') {
      connection.dispatch({ type: 'resumed' });
      if (record.deauthorizedAt !== undefined) await this.#update(tenantId, ({ deauthorizedAt: _gone, ...rest }) => rest);
    }
    const window = record.maintenance;
    const inWindow = window !== undefined && now >= Date.parse(window.from) && now < Date.parse(window.to);
    if (inWindow) connection.dispatch({ type: 'maintenance-started' });
    else if (connection.status.state === 'Maintenance') connection.dispatch({ type: 'maintenance-ended' });
    // An imported legacy tenant waits for its upgrade window: the legacy connector still collects until then.
    const waitingForWindow = record.legacy !== undefined && window !== undefined && now < Date.parse(window.from);
    if (connection.status.state === 'PendingConsent' || waitingForWindow) {
      await this.#stopPoller(tenantId);
      return;
    }
    if (!this.#running.has(tenantId)) this.#startPoller(record, connection);
  }

  #startPoller(record: TenantRecord, connection: Connection): void {
    // Only the id in the closures: they live as long as the poller, a record copy with its history should not.
    const tenantId = record.id;
    const abort = new AbortController();
    const signal = AbortSignal.any([abort.signal, this.#stop.signal]);
    const conditions = pollerConditions(connection);
    const runtime = this.#d.createRuntime(record, conditions, () => this.#startCursor(tenantId));
    const done = (async () => {
      while (!signal.aborted) {
        try {
          await runtime.run(signal);
        } catch (error) {
          if (signal.aborted) break;
          const failure = isConnectorError(error) ? error : new ConnectorError('LIFECYCLE_POLLER_FAILED', String(error), { stage: 'lifecycle', retriable: true, cause: error });
          conditions.failed(failure);
          // No child logger kept per tenant for this rare line (10,000 tenants per pod).
          this.#log.error({ tenant: tenantId, code: failure.code, err: failure.message }, 'Tenant poller failed unexpectedly; restarted after the poll interval');
          await this.#d.clock.sleep(this.#d.settings.pollIntervalMs, signal).catch(() => undefined);
        }
      }
    })();
    this.#running.set(tenantId, { abort, done, runtime });
    this.#log.info({ tenant: tenantId, state: connection.status.state }, 'Tenant poller started by the supervisor');
  }

  async #stopPoller(tenantId: string): Promise<void> {
    const running = this.#running.get(tenantId);
    if (running === undefined) return;
    running.abort.abort(new Error('tenant stopped'));
    await running.done;
    this.#running.delete(tenantId);
    const last = running.runtime.lastCursor();
    if (last !== undefined) this.#lastCursors.set(tenantId, last);
  }

  /**
   * The cursor a starting poller uses instead of the store's: the one its predecessor in this process
   * reached; else, when the store holds none, the cursor parked at deauthorization or the legacy
   * position. Undefined: the store's cursor (or a first run).
   */
  #startCursor(tenantId: string): Cursor | undefined {
    const last = this.#lastCursors.get(tenantId);
    if (last !== undefined) return last;
    if (this.#d.cursors.load(tenantId) !== undefined) return undefined;
    const record = this.#d.registry.get(tenantId);
    return record === undefined ? undefined : (record.parkedCursor ?? legacyCursor(record));
  }

  /** Poller stopped first, so no cursor write can follow the tombstone; the subscription stop never blocks it. */
  async #deauthorize(record: TenantRecord, connection: Connection): Promise<void> {
    const hadPoller = this.#running.has(record.id);
    await this.#stopPoller(record.id);
    const parked = this.#lastCursors.get(record.id) ?? this.#d.cursors.load(record.id) ?? record.parkedCursor;
    await this.#d.cursors.forget(record.id);
    this.#lastCursors.delete(record.id);
    if (hadPoller || connection.status.consentedAt !== undefined) {
      const runtime = this.#running.get(record.id)?.runtime ?? this.#d.createRuntime(record, { subscribed: noop, listed: noop, failed: noop }, () => undefined);
      await runtime.stopSubscription().catch((error: unknown) =>
        this.#log.warn({ tenant: record.id, err: error instanceof Error ? error.message : String(error) }, 'Stopping the subscription failed; the connection is deauthorized anyway'),
      );
    }
    const at = new Date(this.#d.clock.now()).toISOString();
    await this.#update(record.id, (r) => ({ ...r, deauthorizedAt: r.deauthorizedAt ?? at, ...(parked === undefined ? {} : { parkedCursor: parked }) }));
    connection.dispatch({ type: 'deauthorized' });
  }

  async #purge(record: TenantRecord): Promise<void> {
    await this.#d.cursors.forget(record.id);
    this.#lastCursors.delete(record.id);
    await this.#d.registry.remove(record.id);
    this.#connections.delete(record.id);
    this.#countState(record.id, undefined);
    this.#log.info({ tenant: record.id, deauthorizedAt: record.deauthorizedAt }, 'Purged a tenant deauthorized longer than the retention; its published events stay');
  }

  async #sweepLoop(): Promise<void> {
    while (!this.#stop.signal.aborted) {
      await this.#d.clock.sleep(this.#d.settings.sweepIntervalMs, this.#stop.signal).catch(() => undefined);
      if (this.#stop.signal.aborted) return;
      await this.sweep();
    }
  }
}

function noop(): void {
  // Deauthorization only stops the subscription; nothing it reports changes the status.
}

/**
 * The legacy connector's position as a cursor: everything before lastCollectedTime done, its last
 * contentIds done, and lastCollectedTime as the floor no listing goes below (the overlap would
 * otherwise re-collect what the legacy connector already published).
 */
export function legacyCursor(record: TenantRecord): Cursor | undefined {
  const legacy = record.legacy;
  if (legacy === undefined) return undefined;
  return {
    lowerBound: legacy.lastCollectedTime,
    done: Object.fromEntries(legacy.lastContentIds.map((id) => [id, legacy.lastCollectedTime])),
    notBefore: legacy.lastCollectedTime,
    updatedAt: legacy.importedAt,
  };
}
