import { generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { exportJWK, jwtVerify, SignJWT, type JWK, type JWTPayload } from 'jose';
import { rngFor } from '../prng.ts';

export const ACTIVITY_FEED_READ = 'ActivityFeed.Read';

export interface AccessTokenClaims extends JWTPayload {
  tid: string;
  appid: string;
  roles?: string[];
}

/**
 * The simulator's token signer. Claims imitate an app-only v1 token for manage.office.com
 * (o365-api.md §3, "App-only token claims"): aud = resource, iss = sts.windows.net/{tid}/, roles,
 * appid, appidacr ("1" secret, "2" certificate), oid/sub of the service principal, ver 1.0.
 */
export class TokenSigner {
  readonly kid: string;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  /**
   * Tokens whose signature checked out: a connector sends the same token on every request for an
   * hour, and an RSA verification per request was a tenth of the simulator's CPU in a catch-up.
   * Lifetime and audience are still checked on every request. Bounded: cleared when full.
   */
  readonly #verified = new Map<string, AccessTokenClaims>();

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#privateKey = privateKey;
    this.#publicKey = publicKey;
    this.kid = randomUUID().replace(/-/g, '').slice(0, 27);
  }

  async jwks(): Promise<{ keys: JWK[] }> {
    const jwk = await exportJWK(this.#publicKey);
    return { keys: [{ ...jwk, kty: 'RSA', use: 'sig', kid: this.kid, alg: 'RS256' }] };
  }

  async issue(input: { tenantId: string; clientId: string; resource: string; roles: readonly string[]; certificate: boolean; nowMs: number; lifetimeSeconds: number; appName: string }): Promise<string> {
    const iat = Math.floor(input.nowMs / 1000);
    const servicePrincipal = rngFor(input.tenantId, input.clientId, 'service-principal').guid();
    const claims: Record<string, unknown> = {
      aio: randomUUID(),
      app_displayname: input.appName,
      appid: input.clientId,
      appidacr: input.certificate ? '2' : '1',
      idp: `https://sts.windows.net/${input.tenantId}/`,
      idtyp: 'app',
      oid: servicePrincipal,
      rh: `0.${randomUUID()}`,
      tid: input.tenantId,
      uti: randomUUID().replace(/-/g, '').slice(0, 22),
      ver: '1.0',
    };
    // A real app-only token without application permissions has no roles claim at all.
    if (input.roles.length > 0) claims['roles'] = [...input.roles];
    return new SignJWT(claims)
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: this.kid })
      .setAudience(input.resource)
      .setIssuer(`https://sts.windows.net/${input.tenantId}/`)
      .setSubject(servicePrincipal)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + input.lifetimeSeconds)
      .sign(this.#privateKey);
  }

  /** Verifies signature, lifetime (on the simulator clock) and audience; throws on any failure. */
  async verify(token: string, nowMs: number, audiences: readonly string[]): Promise<AccessTokenClaims> {
    const known = this.#verified.get(token);
    if (known !== undefined && stillValid(known, nowMs, audiences)) return known;
    const { payload } = await jwtVerify(token, this.#publicKey, { currentDate: new Date(nowMs), audience: [...audiences], algorithms: ['RS256'] });
    if (typeof payload['tid'] !== 'string' || typeof payload['appid'] !== 'string') throw new Error('Token lacks tid/appid.');
    if (this.#verified.size >= VERIFIED_TOKENS_KEPT) this.#verified.clear();
    this.#verified.set(token, payload as AccessTokenClaims);
    return payload as AccessTokenClaims;
  }
}

const VERIFIED_TOKENS_KEPT = 4096;

/** The checks jwtVerify makes besides the signature: not before, not expired, audience. A miss re-verifies fully (and throws the real error). */
function stillValid(claims: AccessTokenClaims, nowMs: number, audiences: readonly string[]): boolean {
  const nowSeconds = Math.floor(nowMs / 1000);
  if (typeof claims.exp !== 'number' || claims.exp <= nowSeconds) return false;
  if (typeof claims.nbf === 'number' && claims.nbf > nowSeconds) return false;
  const aud = claims.aud;
  return typeof aud === 'string' ? audiences.includes(aud) : Array.isArray(aud) && aud.some((a) => audiences.includes(a));
}
