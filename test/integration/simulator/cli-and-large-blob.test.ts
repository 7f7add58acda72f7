import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Agent, request } from 'undici';
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../../src/simulator/index.ts';

const ROOT = join(import.meta.dirname, '../../..');

describe('onedrive-connector simulate (CLI)', () => {
  it('prints one JSON start line, serves requests, and exits 0 on SIGTERM', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
    const caFile = join(dir, 'ca.pem');
    const child = spawn(process.execPath, ['bin/onedrive-connector.js', 'simulate', '--port', '0', '--tenants', '3', '--seed', '1', '--tenant', 'audit-disabled', '--tenant', 'no-consent', '--ca-out', caFile], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' } });
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.once('line', resolve);
        child.once('exit', (code) => reject(new Error(`simulate exited early with ${String(code)}`)));
      });
      const start = JSON.parse(firstLine) as { baseUrl: string; clientId: string; clientSecret: string; scope: string; caPemPath: string; tenants: { id: string; plan: string; scenario: string }[] };
      expect(start.tenants.map((t) => t.scenario)).toEqual(['healthy', 'healthy', 'healthy', 'audit-disabled', 'no-consent']);
      expect(start.tenants.map((t) => t.plan)).toEqual(['E5', 'E3', 'Business', 'E5', 'E3']);
      expect(start.caPemPath).toBe(caFile);
      const agent = new Agent({ connect: { ca: readFileSync(caFile, 'utf8') } });
      const tenant = start.tenants[0]!.id;
      const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: start.clientId, client_secret: start.clientSecret, scope: start.scope }).toString();
      const token = await request(`${start.baseUrl}/${tenant}/oauth2/v2.0/token`, { method: 'POST', body, dispatcher: agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(token.statusCode).toBe(200);
      const { access_token: accessToken } = (await token.body.json()) as { access_token: string };
      const res = await request(`${start.baseUrl}/api/v1.0/${tenant}/activity/feed/subscriptions/start?contentType=Audit.SharePoint&PublisherIdentifier=x`, { method: 'POST', dispatcher: agent, headers: { authorization: `Bearer ${accessToken}` } });
      expect(res.statusCode).toBe(200);
      await res.body.dump();
      await agent.close();
      const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** V8's collector, exposed at run time (vitest does not start workers with --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('large blobs stream without being held in memory (DESIGN invariant 3)', () => {
  it('serves a ≥100 MB blob while heap and RSS stay within 64 MB of the start', async () => {
    const size = 110 * 1024 * 1024;
    const sim = await startSimulator({ tenants: [{ subscribed: ['Audit.SharePoint'], largeBlob: { sizeBytes: size, minutesAgo: 10 }, eventsPerHour: 10 }] });
    const agent = new Agent({ connect: { ca: sim.caPem } });
    try {
      const tenant = sim.tenants[0]!.id;
      const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: sim.scope }).toString();
      const tokenRes = await request(sim.tokenUrl(tenant), { method: 'POST', body: form, dispatcher: agent, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      const { access_token: token } = (await tokenRes.body.json()) as { access_token: string };
      const listRes = await request(`${sim.feedUrl(tenant)}/subscriptions/content?contentType=Audit.SharePoint`, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
      const listing = (await listRes.body.json()) as { contentId: string; contentUri: string }[];
      const large = listing.find((b) => b.contentId.includes('spolarge'))!;
      // A collected heap to start from: without it the growth measured includes garbage of the set-up,
      // and whether V8 collects it during the stream depends on the machine's load.
      collectGarbage();
      const before = process.memoryUsage();
      let peakRss = before.rss;
      let peakHeap = before.heapUsed;
      let bytes = 0;
      let records = 0;
      const res = await request(large.contentUri, { dispatcher: agent, headers: { authorization: `Bearer ${token}` } });
      expect(res.statusCode).toBe(200);
      let tail = '';
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        bytes += buf.length;
        for (let i = 0; i < buf.length; i++) if (buf[i] === 0x7b && buf[i + 1] === 0x22 && buf[i + 2] === 0x43 && buf[i + 3] === 0x72) records++;
        tail = buf.subarray(-2).toString();
        const m = process.memoryUsage();
        peakRss = Math.max(peakRss, m.rss);
        peakHeap = Math.max(peakHeap, m.heapUsed);
      }
      expect(bytes).toBeGreaterThanOrEqual(size);
      expect(tail.endsWith(']')).toBe(true);
      expect(records).toBeGreaterThan(50_000);
      expect(peakRss - before.rss).toBeLessThan(64 * 1024 * 1024);
      expect(peakHeap - before.heapUsed).toBeLessThan(64 * 1024 * 1024);
      process.stdout.write(`large blob: ${bytes} bytes, ${records} records, RSS +${Math.round((peakRss - before.rss) / 1048576)} MB, heap +${Math.round((peakHeap - before.heapUsed) / 1048576)} MB\n`);
    } finally {
      await agent.close();
      await sim.close();
    }
  });
});
