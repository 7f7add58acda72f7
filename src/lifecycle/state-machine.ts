import { remedyFor, type ErrorReason, type Reason } from './reasons.ts';

/**
 * A tenant connection's lifecycle, as one state machine (docs/lifecycle.md). Pure: the table below
 * is the whole of it, `applyEvent` only reads it, and everything with side effects (pollers,
 * registry, status topic) reacts to the transitions it returns.
 */
export const CONNECTION_STATES = ['PendingConsent', 'Initializing', 'Monitoring', 'Error', 'Maintenance', 'Paused', 'Deauthorized'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export type LifecycleEvent =
  /** Admin consent was granted (callback) and verification may start. */
  | { type: 'consent-granted' }
  /** Verification or polling failed; the reason says what to do. */
  | { type: 'failed'; reason: ErrorReason; code?: string | undefined }
  /** Token, role and subscription verified; content not necessarily listed yet. */
  | { type: 'subscribed' }
  /** A listing returned content (the first one moves Initializing to Monitoring). */
  | { type: 'content-listed' }
  /** A poll succeeded after a failure. */
  | { type: 'recovered' }
  | { type: 'maintenance-started' }
  | { type: 'maintenance-ended' }
  | { type: 'paused' }
  | { type: 'resumed' }
  | { type: 'deauthorized' };
export type LifecycleEventType = LifecycleEvent['type'];

export interface ConnectionStatus {
  state: ConnectionState;
  reason: Reason;
  /** What to do, and who must do it; empty when nothing. */
  remedy: string;
  /** The error code behind an Error state, when there is one. */
  code?: string;
  since: string;
  /** Set once consent was granted; resume goes back to PendingConsent without it. */
  consentedAt?: string;
  /** Set once the first content was listed; recovering goes to Monitoring rather than Initializing with it. */
  firstContentAt?: string;
}

export interface HistoryEntry {
  at: string;
  from: ConnectionState;
  to: ConnectionState;
  reason: Reason;
}

/** Where the connection returns to when it works again: Monitoring once content was seen, else Initializing. */
type Target = ConnectionState | 'working' | 'consented-or-pending';

const ACTIVE: readonly ConnectionState[] = ['PendingConsent', 'Initializing', 'Monitoring', 'Error', 'Maintenance'];

function from(states: readonly ConnectionState[], to: Target): Partial<Record<ConnectionState, Target>> {
  return Object.fromEntries(states.map((s) => [s, to]));
}

/**
 * event → state it may happen in → next state. An event absent for a state is refused (the caller
 * gets `undefined` and the status is unchanged). Deauthorize is allowed from every state.
 */
export const TRANSITIONS: Record<LifecycleEventType, Partial<Record<ConnectionState, Target>>> = {
  'consent-granted': { PendingConsent: 'Initializing', Error: 'Initializing' },
  failed: from(['PendingConsent', 'Initializing', 'Monitoring', 'Error', 'Maintenance'], 'Error'),
  subscribed: { Initializing: 'Initializing', Error: 'working' },
  'content-listed': { Initializing: 'Monitoring', Error: 'Monitoring' },
  recovered: { Error: 'working' },
  'maintenance-started': from(['Initializing', 'Monitoring', 'Error'], 'Maintenance'),
  'maintenance-ended': { Maintenance: 'working' },
  paused: from(ACTIVE, 'Paused'),
  resumed: { Paused: 'consented-or-pending', Deauthorized: 'consented-or-pending' },
  deauthorized: from([...ACTIVE, 'Paused', 'Deauthorized'], 'Deauthorized'),
};

const EVENT_REASONS: Record<Exclude<LifecycleEventType, 'failed'>, Reason> = {
  'consent-granted': 'consent-granted',
  subscribed: 'subscribed',
  'content-listed': 'first-content',
  recovered: 'healthy',
  'maintenance-started': 'maintenance-started',
  'maintenance-ended': 'maintenance-ended',
  paused: 'paused',
  resumed: 'resumed',
  deauthorized: 'deauthorized',
};

export function initialStatus(atMs: number): ConnectionStatus {
  return { state: 'PendingConsent', reason: 'registered', remedy: remedyFor('registered'), since: new Date(atMs).toISOString() };
}

export interface Transition {
  status: ConnectionStatus;
  /** Undefined when the event was allowed but changed nothing worth recording. */
  entry: HistoryEntry | undefined;
}

/** The next status for `event`, or undefined when the table does not allow it in the current state. */
export function applyEvent(current: ConnectionStatus, event: LifecycleEvent, atMs: number): Transition | undefined {
  const target = TRANSITIONS[event.type][current.state];
  if (target === undefined) return undefined;
  const at = new Date(atMs).toISOString();
  const to = resolve(target, current);
  const reason: Reason =
    event.type === 'failed' ? event.reason : event.type === 'content-listed' && current.firstContentAt !== undefined ? 'healthy' : EVENT_REASONS[event.type];
  const code = event.type === 'failed' ? event.code : undefined;
  // The same condition again (a poll failing the same way) is no new transition.
  if (to === current.state && reason === current.reason && code === current.code) return { status: current, entry: undefined };
  const remedy = remedyFor(reason) || (to === 'Initializing' ? remedyFor('subscribed') : '');
  const status: ConnectionStatus = { state: to, reason, remedy, since: at, ...(code === undefined ? {} : { code }), ...flags(current, event, at) };
  return { status, entry: to === current.state && reason === current.reason ? undefined : { at, from: current.state, to, reason } };
}

function resolve(target: Target, current: ConnectionStatus): ConnectionState {
  if (target === 'working') return current.firstContentAt !== undefined ? 'Monitoring' : 'Initializing';
  if (target === 'consented-or-pending') return current.consentedAt !== undefined ? 'Initializing' : 'PendingConsent';
  return target;
}

function flags(current: ConnectionStatus, event: LifecycleEvent, at: string): Pick<ConnectionStatus, 'consentedAt' | 'firstContentAt'> {
  const consentedAt = current.consentedAt ?? (event.type === 'consent-granted' ? at : undefined);
  const firstContentAt = current.firstContentAt ?? (event.type === 'content-listed' ? at : undefined);
  return { ...(consentedAt === undefined ? {} : { consentedAt }), ...(firstContentAt === undefined ? {} : { firstContentAt }) };
}
