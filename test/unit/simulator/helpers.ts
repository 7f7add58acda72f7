import { Agent, request } from 'undici';
import { generateClientCertificate, generateTlsMaterial, type ClientCertificate, type TlsMaterial } from '../../../src/simulator/tls.ts';
import { startSimulator, type RunningSimulator, type SimulatorOptions } from '../../../src/simulator/index.ts';

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- replies are checked structurally by expect()
  json: () => any;
}

/** A started simulator plus an undici client that trusts its CA. */
export interface TestSim {
  sim: RunningSimulator;
  agent: Agent;
  call(method: 'GET' | 'POST', url: string, options?: { token?: string; body?: string; headers?: Record<string, string> }): Promise<Reply>;
  token(tenantId: string, form?: Record<string, string>): Promise<string>;
  feed(tenantId: string, path: string, token: string, method?: 'GET' | 'POST'): Promise<Reply>;
  close(): Promise<void>;
}

let shared: { tls: TlsMaterial; cert: ClientCertificate } | undefined;

/** Starts a simulator; key material is generated once per test file to keep the suite fast. */
export async function startTestSim(options: SimulatorOptions = {}): Promise<TestSim> {
  shared ??= { tls: generateTlsMaterial(), cert: generateClientCertificate() };
  const sim = await startSimulator({ tls: shared.tls, clientCertificate: shared.cert, ...options });
  const agent = new Agent({ connect: { ca: sim.caPem }, keepAliveTimeout: 1000 });
  const call: TestSim['call'] = async (method, url, opts = {}) => {
    const res = await request(url, {
      method,
      dispatcher: agent,
      headers: { ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
      ...(opts.body === undefined ? {} : { body: opts.body }),
    });
    // Decode by hand: undici's body.text() drops a leading BOM, and BOMs are part of what we test.
    const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(await res.body.arrayBuffer());
    // eslint-disable-next-line @typescript-eslint/no-unsafe-return -- see Reply.json
    return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text.replace(/^\uFEFF/, '')) };
  };
  const token: TestSim['token'] = async (tenantId, form = {}) => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: sim.scope, ...form });
    const res = await call('POST', sim.tokenUrl(tenantId), { body: body.toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${res.text}`);
    return res.json().access_token as string;
  };
  const feed: TestSim['feed'] = (tenantId, path, tok, method = 'GET') => call(method, `${sim.feedUrl(tenantId)}/${path}`, { token: tok });
  return {
    sim,
    agent,
    call,
    token,
    feed,
    close: async () => {
      await agent.close();
      await sim.close();
    },
  };
}

/** Formats epoch ms as the documented `YYYY-MM-DDTHH:MM:SS` (o365-api.md §1.7). */
export function apiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}
