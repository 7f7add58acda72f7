import { describe, expect, it } from 'vitest';
import { ConnectorError } from '../../../src/contracts/errors.ts';
import { Connection, HISTORY_LIMIT, pollerConditions } from '../../../src/lifecycle/connection.ts';
import { remedyFor } from '../../../src/lifecycle/reasons.ts';
import {
  applyEvent,
  CONNECTION_STATES,
  initialStatus,
  TRANSITIONS,
  type ConnectionState,
  type ConnectionStatus,
  type LifecycleEvent,
  type LifecycleEventType,
} from '../../../src/lifecycle/state-machine.ts';

const T0 = Date.parse('2026-12-01T00:00:00Z');

function status(state: ConnectionState, extra: Partial<ConnectionStatus> = {}): ConnectionStatus {
  return { ...initialStatus(T0), state, reason: state === 'Error' ? 'throttled' : 'registered', ...extra };
}

const failed: LifecycleEvent = { type: 'failed', reason: 'audit-disabled', code: 'API_AUDIT_DISABLED' };
const events: Record<LifecycleEventType, LifecycleEvent> = {
  'consent-granted': { type: 'consent-granted' },
  failed,
  subscribed: { type: 'subscribed' },
  'content-listed': { type: 'content-listed' },
  recovered: { type: 'recovered' },
  'maintenance-started': { type: 'maintenance-started' },
  'maintenance-ended': { type: 'maintenance-ended' },
  paused: { type: 'paused' },
  resumed: { type: 'resumed' },
  deauthorized: { type: 'deauthorized' },
};

const seen = { consentedAt: '2026-11-30T00:00:00.000Z', firstContentAt: '2026-11-30T01:00:00.000Z' };

/** Every allowed (event, from) pair with what it must lead to, and in which variant of the from state. */
const CASES: Array<[LifecycleEventType, ConnectionState, Partial<ConnectionStatus>, ConnectionState, string]> = [
  ['consent-granted', 'PendingConsent', {}, 'Initializing', 'consent-granted'],
  ['consent-granted', 'Error', {}, 'Initializing', 'consent-granted'],
  ['failed', 'PendingConsent', {}, 'Error', 'audit-disabled'],
  ['failed', 'Initializing', {}, 'Error', 'audit-disabled'],
  ['failed', 'Monitoring', {}, 'Error', 'audit-disabled'],
  ['failed', 'Error', {}, 'Error', 'audit-disabled'],
  ['failed', 'Maintenance', {}, 'Error', 'audit-disabled'],
  ['subscribed', 'Initializing', {}, 'Initializing', 'subscribed'],
  ['subscribed', 'Error', {}, 'Initializing', 'subscribed'],
  ['content-listed', 'Initializing', {}, 'Monitoring', 'first-content'],
  ['content-listed', 'Error', seen, 'Monitoring', 'healthy'],
  ['recovered', 'Error', seen, 'Monitoring', 'healthy'],
  ['maintenance-started', 'Initializing', {}, 'Maintenance', 'maintenance-started'],
  ['maintenance-started', 'Monitoring', {}, 'Maintenance', 'maintenance-started'],
  ['maintenance-started', 'Error', {}, 'Maintenance', 'maintenance-started'],
  ['maintenance-ended', 'Maintenance', seen, 'Monitoring', 'maintenance-ended'],
  ['paused', 'PendingConsent', {}, 'Paused', 'paused'],
  ['paused', 'Initializing', {}, 'Paused', 'paused'],
  ['paused', 'Monitoring', {}, 'Paused', 'paused'],
  ['paused', 'Error', {}, 'Paused', 'paused'],
  ['paused', 'Maintenance', {}, 'Paused', 'paused'],
  ['resumed', 'Paused', seen, 'Initializing', 'resumed'],
  ['resumed', 'Deauthorized', seen, 'Initializing', 'resumed'],
  ['deauthorized', 'PendingConsent', {}, 'Deauthorized', 'deauthorized'],
  ['deauthorized', 'Initializing', {}, 'Deauthorized', 'deauthorized'],
  ['deauthorized', 'Monitoring', {}, 'Deauthorized', 'deauthorized'],
  ['deauthorized', 'Error', {}, 'Deauthorized', 'deauthorized'],
  ['deauthorized', 'Maintenance', {}, 'Deauthorized', 'deauthorized'],
  ['deauthorized', 'Paused', {}, 'Deauthorized', 'deauthorized'],
];

describe('connection state machine', () => {
  it.each(CASES)('%s in %s (%o) → %s because %s', (type, from, extra, to, reason) => {
    const next = applyEvent(status(from, extra), events[type], T0 + 1000);
    expect(next?.status.state).toBe(to);
    expect(next?.status.reason).toBe(reason);
    expect(next?.entry).toEqual({ at: new Date(T0 + 1000).toISOString(), from, to, reason });
  });

  it('has a case above for every allowed transition of the table, and refuses everything else', () => {
    for (const type of Object.keys(TRANSITIONS) as LifecycleEventType[]) {
      for (const from of CONNECTION_STATES) {
        const allowed = TRANSITIONS[type][from] !== undefined;
        const covered = CASES.some(([t, f]) => t === type && f === from) || (type === 'deauthorized' && from === 'Deauthorized');
        expect({ type, from, covered }).toEqual({ type, from, covered: allowed });
        if (!allowed) expect(applyEvent(status(from), events[type], T0)).toBeUndefined();
      }
    }
  });

  it('deauthorizing twice records nothing the second time', () => {
    const once = applyEvent(status('Monitoring'), events.deauthorized, T0);
    const twice = once === undefined ? undefined : applyEvent(once.status, events.deauthorized, T0 + 5);
    expect(twice?.entry).toBeUndefined();
    expect(twice?.status.state).toBe('Deauthorized');
  });

  it('goes back to Initializing, not Monitoring, while no content was ever listed', () => {
    expect(applyEvent(status('Error'), events.recovered, T0)?.status.state).toBe('Initializing');
    expect(applyEvent(status('Maintenance'), events['maintenance-ended'], T0)?.status.state).toBe('Initializing');
  });

  it('resumes to PendingConsent when consent was never granted', () => {
    expect(applyEvent(status('Paused'), events.resumed, T0)?.status.state).toBe('PendingConsent');
    expect(applyEvent(status('Deauthorized'), events.resumed, T0)?.status.state).toBe('PendingConsent');
  });

  it('gives every Error its remedy and code; a repeat of the same failure is no new entry', () => {
    const first = applyEvent(status('Monitoring'), failed, T0);
    expect(first?.status).toMatchObject({ state: 'Error', reason: 'audit-disabled', code: 'API_AUDIT_DISABLED' });
    expect(first?.status.remedy).toMatch(/Purview/);
    const again = first === undefined ? undefined : applyEvent(first.status, failed, T0 + 60_000);
    expect(again?.entry).toBeUndefined();
    expect(again?.status.since).toBe(first?.status.since);
  });

  it('names a distinct remedy for each onboarding outcome', () => {
    const remedies = (['consent-missing', 'permission-missing', 'audit-disabled', 'unknown-tenant', 'throttled'] as const).map(remedyFor);
    expect(new Set(remedies).size).toBe(remedies.length);
    for (const remedy of remedies) expect(remedy.length).toBeGreaterThan(20);
    expect(remedyFor('healthy')).toBe('');
  });

  it('keeps consentedAt and firstContentAt once set', () => {
    let s = initialStatus(T0);
    for (const event of [events['consent-granted'], events['content-listed'], events.paused, events.resumed]) {
      s = applyEvent(s, event, T0 + 1)?.status ?? s;
    }
    expect(s).toMatchObject({ state: 'Initializing', consentedAt: new Date(T0 + 1).toISOString(), firstContentAt: new Date(T0 + 1).toISOString() });
  });
});

describe('Connection', () => {
  it('keeps a bounded history and tells listeners about each recorded transition', () => {
    let now = T0;
    const connection = new Connection('t1', () => now);
    const seenByListener: string[] = [];
    connection.onTransition((tenant, s, entry) => seenByListener.push(`${tenant}:${entry.from}->${s.state}`));
    expect(connection.dispatch({ type: 'consent-granted' })).toBe(true);
    expect(connection.dispatch({ type: 'maintenance-ended' })).toBe(false);
    for (let i = 0; i < HISTORY_LIMIT + 10; i += 1) {
      now += 1000;
      connection.dispatch(i % 2 === 0 ? { type: 'paused' } : { type: 'resumed' });
    }
    expect(connection.history).toHaveLength(HISTORY_LIMIT);
    expect(connection.history.at(-1)?.at).toBe(new Date(now).toISOString());
    expect(seenByListener[0]).toBe('t1:PendingConsent->Initializing');
    expect(seenByListener).toHaveLength(HISTORY_LIMIT + 11);
  });

  it('turns poller conditions into events: Initializing → Monitoring on the first content, Error with the reason on failure', () => {
    const connection = new Connection('t1', () => T0, { status: { ...initialStatus(T0), state: 'Initializing', consentedAt: 'x' }, history: [] });
    const conditions = pollerConditions(connection);
    conditions.subscribed();
    conditions.listed(0);
    expect(connection.status.state).toBe('Initializing');
    conditions.listed(3);
    expect(connection.status.state).toBe('Monitoring');
    conditions.failed(new ConnectorError('AUTH_UNKNOWN_TENANT', 'unknown', { stage: 'auth', retriable: false }));
    expect(connection.status).toMatchObject({ state: 'Error', reason: 'unknown-tenant', code: 'AUTH_UNKNOWN_TENANT' });
    conditions.failed(new ConnectorError('API_THROTTLED', 'slow down', { stage: 'listing', retriable: true }));
    expect(connection.status.reason).toBe('throttled');
    conditions.listed(0);
    expect(connection.status).toMatchObject({ state: 'Monitoring', reason: 'healthy', remedy: '' });
    expect(connection.history.map((h) => `${h.from}>${h.to}:${h.reason}`)).toEqual([
      'Initializing>Initializing:subscribed',
      'Initializing>Monitoring:first-content',
      'Monitoring>Error:unknown-tenant',
      'Error>Error:throttled',
      'Error>Monitoring:healthy',
    ]);
  });
});
