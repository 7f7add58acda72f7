import type { Clock } from '../contracts/clock.ts';
import type { TenantRecord, TenantRegistry } from '../contracts/tenant-registry.ts';
import { consentUrl, signState, verifyState } from '../lifecycle/consent.ts';
import { newTenantRecord } from '../lifecycle/records.ts';
import type { Supervisor } from '../lifecycle/supervisor.ts';
import type { z } from 'zod';
import type { addTenantBody, legacyImportBody, maintenanceBody } from './schemas.ts';

/** An admin API failure with its HTTP status; the server turns it into the problem body. */
export class AdminError extends Error {
  override readonly name = 'AdminError';
  readonly status: 400 | 401 | 404 | 409;
  readonly code: string;
  readonly problems: Array<{ path: string; message: string }> | undefined;

  constructor(status: 400 | 401 | 404 | 409, code: string, message: string, problems?: Array<{ path: string; message: string }>) {
    super(message);
    this.status = status;
    this.code = code;
    this.problems = problems;
  }
}

export interface OperationsDeps {
  registry: TenantRegistry;
  supervisor: Supervisor;
  /** Whether the tenant already has a cursor (an import must not move a running tenant back). */
  hasCursor: (tenantId: string) => boolean;
  clock: Clock;
  consent: { clientId: string; redirectUri: string; stateSecret: string; stateTtlMs: number; loginBaseUrl?: string | undefined };
}

/**
 * The admin operations: they change what is wanted of a tenant in the registry, and the supervisor
 * reconciles (starts, stops, moves the status). Each waits for that to settle, so the answer shows
 * the status the operation led to.
 */
export class TenantOperations {
  readonly #d: OperationsDeps;

  constructor(deps: OperationsDeps) {
    this.#d = deps;
  }

  list(): TenantRecord[] {
    return this.#d.registry.list().sort((a, b) => a.id.localeCompare(b.id));
  }

  /** Waits until the supervisor wrote back what it did for the tenant (status and history). */
  async settled(tenantId: string): Promise<void> {
    await this.#d.supervisor.settled(tenantId.toLowerCase());
  }

  show(tenantId: string): TenantRecord {
    const record = this.#d.registry.get(tenantId.toLowerCase());
    if (record === undefined) throw new AdminError(404, 'TENANT_NOT_FOUND', `No tenant ${tenantId} in the registry`);
    return record;
  }

  async add(body: z.infer<typeof addTenantBody>): Promise<TenantRecord> {
    if (this.#d.registry.get(body.id.toLowerCase()) !== undefined) throw new AdminError(409, 'TENANT_EXISTS', `Tenant ${body.id} is already registered`);
    return this.#putAndSettle(newTenantRecord(body, 'api', this.#d.clock.now()));
  }

  async pause(tenantId: string): Promise<TenantRecord> {
    const record = this.show(tenantId);
    if (record.desiredState === 'deauthorized') throw new AdminError(409, 'TENANT_DEAUTHORIZED', 'A deauthorized tenant cannot be paused; resume it first');
    return this.#putAndSettle({ ...record, desiredState: 'paused' });
  }

  async resume(tenantId: string): Promise<TenantRecord> {
    return this.#putAndSettle({ ...this.show(tenantId), desiredState: 'active' });
  }

  /** Allowed in every state. */
  async deauthorize(tenantId: string): Promise<TenantRecord> {
    return this.#putAndSettle({ ...this.show(tenantId), desiredState: 'deauthorized' });
  }

  consentUrl(tenantId: string): { url: string; expiresAt: string } {
    const record = this.show(tenantId);
    if (record.desiredState !== 'active') throw new AdminError(409, 'TENANT_NOT_ACTIVE', `Tenant ${tenantId} is ${record.desiredState}; resume it before asking for consent`);
    const { consent } = this.#d;
    const expiresAtMs = this.#d.clock.now() + consent.stateTtlMs;
    const url = consentUrl({
      tenantId: record.id,
      cloud: record.cloud,
      clientId: consent.clientId,
      redirectUri: consent.redirectUri,
      state: signState(consent.stateSecret, record.id, expiresAtMs),
      loginBaseUrl: consent.loginBaseUrl,
    });
    return { url, expiresAt: new Date(expiresAtMs).toISOString() };
  }

  /** The browser's return from Entra ID; the state is the only credential it carries. */
  async consentCallback(query: URLSearchParams): Promise<{ tenant: string; outcome: 'granted' | 'denied'; state: TenantRecord['status']['state'] }> {
    const state = query.get('state');
    if (state === null) throw new AdminError(400, 'CONSENT_STATE_MISSING', 'The callback has no state parameter');
    const check = verifyState(this.#d.consent.stateSecret, state, this.#d.clock.now());
    if (!check.ok) throw new AdminError(400, 'CONSENT_STATE_INVALID', `The consent state is ${check.problem}; ask for a new consent URL`);
    const record = this.show(check.tenantId);
    const error = query.get('error');
    if (error !== null) {
      await this.#d.supervisor.dispatch(record.id, { type: 'failed', reason: 'consent-denied', code: error });
      return { tenant: record.id, outcome: 'denied', state: this.show(record.id).status.state };
    }
    const tenant = query.get('tenant');
    if (query.get('admin_consent')?.toLowerCase() !== 'true' || tenant === null) {
      throw new AdminError(400, 'CONSENT_CALLBACK_INVALID', 'The callback has neither admin_consent=True with a tenant nor an error');
    }
    if (tenant.toLowerCase() !== record.id) throw new AdminError(400, 'CONSENT_TENANT_MISMATCH', `Consent was granted in tenant ${tenant}, but the state names ${record.id}`);
    await this.#d.supervisor.dispatch(record.id, { type: 'consent-granted' });
    return { tenant: record.id, outcome: 'granted', state: this.show(record.id).status.state };
  }

  /** A second import of the same tenant is a no-op; importing over a tenant this connector already collects is a conflict. */
  async importLegacy(body: z.infer<typeof legacyImportBody>): Promise<{ imported: boolean; tenant: TenantRecord }> {
    const id = body.tenant.toLowerCase();
    const existing = this.#d.registry.get(id);
    if (existing?.legacy !== undefined) return { imported: false, tenant: existing };
    if (existing !== undefined || this.#d.hasCursor(id)) throw new AdminError(409, 'TENANT_ALREADY_COLLECTED', `Tenant ${id} is already collected by this connector; there is no legacy position to import`);
    const nowMs = this.#d.clock.now();
    const window = body.window ?? { from: new Date(nowMs).toISOString(), to: new Date(nowMs + 3600_000).toISOString() };
    checkWindow(window, nowMs);
    const record = newTenantRecord({ id, displayName: body.displayName, cloud: body.cloud, plan: body.plan }, 'legacy-import', nowMs);
    const at = new Date(nowMs).toISOString();
    // The legacy connector held consent for this tenant; verification still checks it.
    record.status = { ...record.status, state: 'Initializing', reason: 'consent-granted', remedy: '', since: at, consentedAt: at };
    record.history = [{ at, from: 'PendingConsent', to: 'Initializing', reason: 'consent-granted' }];
    record.legacy = { lastCollectedTime: new Date(body.lastCollectedTime).toISOString(), lastContentIds: body.lastContentIds, importedAt: at };
    record.maintenance = { from: new Date(window.from).toISOString(), to: new Date(window.to).toISOString() };
    return { imported: true, tenant: await this.#putAndSettle(record) };
  }

  async scheduleMaintenance(tenantId: string, body: z.infer<typeof maintenanceBody>): Promise<TenantRecord> {
    const record = this.show(tenantId);
    if (record.desiredState === 'deauthorized') throw new AdminError(409, 'TENANT_DEAUTHORIZED', 'A deauthorized tenant has no maintenance');
    checkWindow(body, this.#d.clock.now());
    const updated = await this.#putAndSettle({ ...record, maintenance: { from: new Date(body.from).toISOString(), to: new Date(body.to).toISOString() } });
    return updated;
  }

  async #putAndSettle(record: TenantRecord): Promise<TenantRecord> {
    const stored = await this.#d.registry.put({ ...record, updatedAt: new Date(this.#d.clock.now()).toISOString() });
    await this.#d.supervisor.settled(stored.id);
    return this.#d.registry.get(stored.id) ?? stored;
  }
}

function checkWindow(window: { from: string; to: string }, nowMs: number): void {
  const problems: Array<{ path: string; message: string }> = [];
  const from = Date.parse(window.from);
  const to = Date.parse(window.to);
  if (!(to > from)) problems.push({ path: 'to', message: 'must be after from' });
  if (!(to > nowMs)) problems.push({ path: 'to', message: 'must be in the future' });
  if (problems.length > 0) throw new AdminError(400, 'INVALID_BODY', 'The maintenance window is invalid', problems.map((p) => ({ ...p, path: p.path })));
}
