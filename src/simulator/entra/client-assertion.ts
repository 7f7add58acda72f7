import { X509Certificate } from 'node:crypto';
import { compactVerify, decodeProtectedHeader } from 'jose';
import { thumbprints } from '../tls.ts';

/**
 * Checks a client assertion as Entra does for certificate credentials (o365-api.md §3 "Certificate"):
 * header alg RS256 (x5t = SHA-1 thumbprint) or PS256 (x5t#S256, what msal-node sends with a SHA-256
 * thumbprint); signature by the registered certificate's key; iss = sub = client_id; aud = the token
 * endpoint; exp/nbf valid. Times are checked against the wall clock, because the client library that
 * builds the assertion reads the wall clock, not the simulator's.
 */
export type AssertionFailure = 'key-not-found' | 'bad-signature' | 'subject' | 'audience' | 'time' | 'malformed';

export interface AssertionCheck {
  ok: boolean;
  failure?: AssertionFailure;
  audience?: string;
}

const SKEW_SECONDS = 300;

function hexToBase64Url(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64url');
}

export class AssertionVerifier {
  readonly #cert: X509Certificate;
  readonly #x5t: string;
  readonly #x5tS256: string;

  constructor(certificatePem: string) {
    this.#cert = new X509Certificate(certificatePem);
    const t = thumbprints(certificatePem);
    this.#x5t = hexToBase64Url(t.thumbprintSha1);
    this.#x5tS256 = hexToBase64Url(t.thumbprintSha256);
  }

  async check(assertion: string, clientId: string, audiences: readonly string[]): Promise<AssertionCheck> {
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      return { ok: false, failure: 'malformed' };
    }
    const alg = header.alg;
    const matchesKey = (alg === 'RS256' && (header.x5t === this.#x5t || header['x5t#S256'] === this.#x5tS256)) || (alg === 'PS256' && header['x5t#S256'] === this.#x5tS256);
    if (!matchesKey) return { ok: false, failure: 'key-not-found' };
    let payload: Record<string, unknown>;
    try {
      const verified = await compactVerify(assertion, this.#cert.publicKey, { algorithms: ['RS256', 'PS256'] });
      payload = JSON.parse(new TextDecoder().decode(verified.payload)) as Record<string, unknown>;
    } catch {
      return { ok: false, failure: 'bad-signature' };
    }
    if (payload['iss'] !== clientId || payload['sub'] !== clientId) return { ok: false, failure: 'subject' };
    const aud = Array.isArray(payload['aud']) ? (payload['aud'] as unknown[]).map(String) : [String(payload['aud'])];
    if (!aud.some((a) => audiences.includes(a.replace(/\/$/, '')))) return { ok: false, failure: 'audience', audience: aud.join(',') };
    const now = Math.floor(Date.now() / 1000);
    const exp = Number(payload['exp']);
    const nbf = payload['nbf'] === undefined ? undefined : Number(payload['nbf']);
    if (!Number.isFinite(exp) || exp + SKEW_SECONDS < now || (nbf !== undefined && nbf - SKEW_SECONDS > now)) return { ok: false, failure: 'time' };
    return { ok: true };
  }
}
