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
    const { payload } = await jwtVerify(token, this.#publicKey, { currentDate: new Date(nowMs), audience: [...audiences], algorithms: ['RS256'] });
    if (typeof payload['tid'] !== 'string' || typeof payload['appid'] !== 'string') throw new Error('Token lacks tid/appid.');
    return payload as AccessTokenClaims;
  }
}
