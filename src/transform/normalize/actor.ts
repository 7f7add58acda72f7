import type { ActorKind } from '../../contracts/file-event.ts';
import { EMAIL } from './fields.ts';

/**
 * Who acted. People get their UPN in `user.email`; apps and system accounts are flagged, never
 * mistaken for people (they would pollute "who touched this file" searches). Sources: o365-api.md
 * §4.1/§4.6 — UserType 4 System, 5 Application, 6 ServicePrincipal, 7/8 policies, 10 Guest.
 */
export interface Actor {
  email: string | null;
  actorKind: ActorKind;
  name: string;
}

const SYSTEM_IDS = new Set(['sharepoint\\system', 'nt authority\\system']);
const APP_IDS = new Set(['app@sharepoint']);
const GUEST_PREFIX = 'urn:spo:guest#';
const ANON_PREFIX = 'urn:spo:anon#';

export function resolveActor(userId: string, userType: number | null, userKey: string | null): Actor {
  const lowered = userId.toLowerCase();
  const kind = (actorKind: ActorKind, email: string | null = null): Actor => ({ email, actorKind, name: userId });

  if (APP_IDS.has(lowered) || userKey?.toLowerCase().endsWith('|app@sharepoint') === true) return kind('app');
  if (SYSTEM_IDS.has(lowered)) return kind('system');
  if (userType === 5 || userType === 6) return kind('app');
  if (userType === 4 || userType === 7 || userType === 8) return kind('system');
  if (lowered.startsWith(ANON_PREFIX)) return kind('anonymous');
  if (lowered.startsWith(GUEST_PREFIX)) {
    const address = lowered.slice(GUEST_PREFIX.length);
    return kind('guest', EMAIL.test(address) ? address : null);
  }
  const email = EMAIL.test(lowered) ? lowered : null;
  // `#ext#` marks a B2B guest's UPN in the host tenant.
  return kind(userType === 10 || lowered.includes('#ext#') ? 'guest' : 'user', email);
}
