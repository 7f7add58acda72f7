import type { ConnectorError } from '../contracts/errors.ts';
import { reasonForError } from './reasons.ts';
import { applyEvent, initialStatus, type ConnectionStatus, type HistoryEntry, type LifecycleEvent } from './state-machine.ts';

/** History entries kept per tenant (oldest dropped first): enough for weeks of normal changes. */
export const HISTORY_LIMIT = 50;

export type TransitionListener = (tenantId: string, status: ConnectionStatus, entry: HistoryEntry) => void;

/**
 * One tenant's connection status with its bounded history. Everything that learns something about
 * the tenant (poller, onboarding, supervisor, admin API) dispatches an event here; listeners (the
 * registry writer, the status topic, the status metric) see every recorded transition.
 */
export class Connection {
  readonly tenantId: string;
  #status: ConnectionStatus;
  #history: HistoryEntry[];
  readonly #now: () => number;
  readonly #listeners: TransitionListener[] = [];

  constructor(tenantId: string, now: () => number, saved?: { status: ConnectionStatus; history: readonly HistoryEntry[] }) {
    this.tenantId = tenantId;
    this.#now = now;
    this.#status = saved?.status ?? initialStatus(now());
    this.#history = [...(saved?.history ?? [])].slice(-HISTORY_LIMIT);
  }

  get status(): ConnectionStatus {
    return this.#status;
  }

  get history(): readonly HistoryEntry[] {
    return this.#history;
  }

  onTransition(listener: TransitionListener): void {
    this.#listeners.push(listener);
  }

  /** Applies the event if the table allows it in the current state; returns whether it was allowed. */
  dispatch(event: LifecycleEvent): boolean {
    const next = applyEvent(this.#status, event, this.#now());
    if (next === undefined) return false;
    this.#status = next.status;
    if (next.entry !== undefined) {
      this.#history.push(next.entry);
      if (this.#history.length > HISTORY_LIMIT) this.#history.splice(0, this.#history.length - HISTORY_LIMIT);
      for (const listener of this.#listeners) listener(this.tenantId, this.#status, next.entry);
    }
    return true;
  }
}

/**
 * What a poller tells the lifecycle, so the state machine stays out of the poller: it reports
 * conditions, the table decides what they mean in the current state.
 */
export interface PollerConditions {
  subscribed(): void;
  /** After every successful listing pass; `items` is how many content entries it returned. */
  listed(items: number): void;
  failed(error: ConnectorError): void;
}

export function pollerConditions(connection: Connection): PollerConditions {
  return {
    subscribed: () => void connection.dispatch({ type: 'subscribed' }),
    listed: (items) => {
      if (items > 0) connection.dispatch({ type: 'content-listed' });
      else connection.dispatch({ type: 'recovered' });
    },
    failed: (error) => void connection.dispatch({ type: 'failed', reason: reasonForError(error), code: error.code }),
  };
}
