import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { CLOUDS, type CloudName } from '../config/clouds.ts';

/**
 * Onboarding through Entra ID's v2 admin-consent endpoint: a global admin of the tenant opens the
 * URL, consents for the application's permissions (`<api>/.default`), and Entra sends the browser
 * back to the redirect URI with `admin_consent=True&tenant=…&state=…` or `error=…&error_description=…`.
 * The state is signed and expires, and names the pending tenant, so a callback can neither be forged
 * nor replayed for another tenant.
 */
export interface ConsentUrlInput {
  tenantId: string;
  cloud: CloudName;
  clientId: string;
  redirectUri: string;
  state: string;
  /** The simulator (tests, quick start) stands in for the cloud's login host. */
  loginBaseUrl?: string | undefined;
}

export function consentUrl(input: ConsentUrlInput): string {
  const cloud = CLOUDS[input.cloud];
  const url = new URL(`${input.loginBaseUrl ?? cloud.loginBaseUrl}/${encodeURIComponent(input.tenantId)}/v2.0/adminconsent`);
  url.searchParams.set('client_id', input.clientId);
  url.searchParams.set('scope', `${cloud.apiBaseUrl}/.default`);
  url.searchParams.set('redirect_uri', input.redirectUri);
  url.searchParams.set('state', input.state);
  return url.toString();
}

interface StatePayload {
  /** Tenant id. */
  t: string;
  /** Expiry, ms since the epoch. */
  e: number;
  /** Nonce: two URLs for one tenant differ. */
  n: string;
}

function sign(secret: string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

export function signState(secret: string, tenantId: string, expiresAtMs: number): string {
  const payload = Buffer.from(JSON.stringify({ t: tenantId.toLowerCase(), e: expiresAtMs, n: randomBytes(9).toString('base64url') } satisfies StatePayload)).toString('base64url');
  return `${payload}.${sign(secret, payload).toString('base64url')}`;
}

export type StateCheck = { ok: true; tenantId: string } | { ok: false; problem: 'malformed' | 'bad-signature' | 'expired' };

export function verifyState(secret: string, state: string, nowMs: number): StateCheck {
  const [payload, signature, extra] = state.split('.');
  if (payload === undefined || signature === undefined || extra !== undefined || payload === '' || signature === '') return { ok: false, problem: 'malformed' };
  const expected = sign(secret, payload);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, problem: 'bad-signature' };
  let parsed: Partial<StatePayload>;
  try {
    parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Partial<StatePayload>;
  } catch {
    return { ok: false, problem: 'malformed' };
  }
  if (typeof parsed.t !== 'string' || typeof parsed.e !== 'number') return { ok: false, problem: 'malformed' };
  if (nowMs >= parsed.e) return { ok: false, problem: 'expired' };
  return { ok: true, tenantId: parsed.t };
}
