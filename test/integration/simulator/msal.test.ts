import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ConfidentialClientApplication, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import { decodeJwt } from 'jose';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type RunningSimulator } from '../../../src/simulator/index.ts';

/**
 * msal-node 7.2 end to end against the simulator (o365-api.md §3). msal-node 7 sends its requests
 * with the global fetch, so it does not see undici Agents passed elsewhere; two ways work:
 * a custom `system.networkClient` (below), or NODE_EXTRA_CA_CERTS for the whole process.
 */
class CaTrustingNetworkClient implements INetworkModule {
  readonly #agent: Agent;

  constructor(caPem: string) {
    this.#agent = new Agent({ connect: { ca: caPem } });
  }

  sendGetRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>('GET', url, options);
  }

  sendPostRequestAsync<T>(url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    return this.#send<T>('POST', url, options);
  }

  async #send<T>(method: 'GET' | 'POST', url: string, options?: NetworkRequestOptions): Promise<NetworkResponse<T>> {
    const res = await request(url, { method, dispatcher: this.#agent, headers: options?.headers ?? {}, ...(method === 'POST' ? { body: options?.body ?? '' } : {}) });
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    return { headers, body: (await res.body.json()) as T, status: res.statusCode };
  }

  close(): Promise<void> {
    return this.#agent.close();
  }
}

let sim: RunningSimulator;
let tenant: string;
let network: CaTrustingNetworkClient;

beforeAll(async () => {
  sim = await startSimulator({ tenants: [{ subscribed: ['Audit.SharePoint'] }, { scenario: 'no-consent' }] });
  tenant = sim.tenants[0]!.id;
  network = new CaTrustingNetworkClient(sim.caPem);
});
afterAll(async () => {
  await network.close();
  await sim.close();
});

function app(auth: { clientSecret: string } | { clientCertificate: { thumbprintSha256?: string; thumbprint?: string; privateKey: string } }, tenantId = tenant) {
  return new ConfidentialClientApplication({
    auth: { clientId: sim.clientId, authority: sim.authority(tenantId), knownAuthorities: [new URL(sim.baseUrl).host], ...auth },
    system: { networkClient: network },
  });
}

describe('msal-node ConfidentialClientApplication against the simulator', () => {
  it('acquires a token with a client secret, and the API accepts it', async () => {
    const result = await app({ clientSecret: sim.clientSecret }).acquireTokenByClientCredential({ scopes: [sim.scope] });
    expect(result?.accessToken).toBeTruthy();
    expect(decodeJwt(result!.accessToken)).toMatchObject({ tid: tenant, roles: ['ActivityFeed.Read', 'ServiceHealth.Read'] });
    const res = await network.sendGetRequestAsync<unknown[]>(`${sim.feedUrl(tenant)}/subscriptions/list`, { headers: { Authorization: `Bearer ${result!.accessToken}` } });
    expect(res.status).toBe(200);
    expect(sim.stats.count({ endpoint: 'openid-configuration' })).toBeGreaterThan(0);
  });

  it('acquires a token with a certificate (SHA-256 thumbprint → PS256) and with a SHA-1 thumbprint (RS256)', async () => {
    const key = sim.clientCertificate.keyPem!;
    const ps = await app({ clientCertificate: { thumbprintSha256: sim.clientCertificate.thumbprintSha256, privateKey: key } }).acquireTokenByClientCredential({ scopes: [sim.scope] });
    expect(decodeJwt(ps!.accessToken)['appidacr']).toBe('2');
    const rs = await app({ clientCertificate: { thumbprint: sim.clientCertificate.thumbprintSha1, privateKey: key } }).acquireTokenByClientCredential({ scopes: [sim.scope] });
    expect(decodeJwt(rs!.accessToken)['appidacr']).toBe('2');
  });

  it('surfaces Entra errors: bad secret (7000215) and no consent (700016)', async () => {
    await expect(app({ clientSecret: 'nope' }).acquireTokenByClientCredential({ scopes: [sim.scope] })).rejects.toMatchObject({ errorCode: 'invalid_client' });
    await expect(app({ clientSecret: sim.clientSecret }, sim.tenants[1]!.id).acquireTokenByClientCredential({ scopes: [sim.scope] })).rejects.toThrow(/AADSTS700016/);
  });

  it('works with msal-node default fetch client when the CA comes from NODE_EXTRA_CA_CERTS (child process)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-ca-'));
    try {
      const caFile = join(dir, 'ca.pem');
      writeFileSync(caFile, sim.caPem);
      const script = `
        import { ConfidentialClientApplication } from '@azure/msal-node';
        const [clientId, authority, host, secret, scope] = process.argv.slice(1);
        const app = new ConfidentialClientApplication({ auth: { clientId, authority, knownAuthorities: [host], clientSecret: secret } });
        const r = await app.acquireTokenByClientCredential({ scopes: [scope] });
        process.stdout.write(r.accessToken.split('.').length === 3 ? 'ok' : 'bad');`;
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script, sim.clientId, sim.authority(tenant), new URL(sim.baseUrl).host, sim.clientSecret, sim.scope], {
        cwd: join(import.meta.dirname, '../../..'),
        env: { ...process.env, NODE_EXTRA_CA_CERTS: caFile },
        timeout: 30_000,
      });
      expect(stdout).toBe('ok');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
