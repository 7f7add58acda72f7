/**
 * A peer to compare with: a poller shaped like Filebeat's o365audit input (reference/filebeat-o365.md
 * §1): one source per tenant × content type, ONE request at a time — list a window (≤ 24 h, paged by
 * NextPageUri), then download its blobs one after another, then the next window — with the minimum
 * gap between requests of §1.1 (1 min × content types / max_requests_per_minute). Events go through
 * the same normalizer and serializer as ours and are handed to a Kafka producer without waiting for
 * each send (libbeat's publisher queue takes them; §1.1 "Backpressure"); all sends are awaited at the
 * end. It stops once a window reaches the present (Filebeat would then poll every 3 minutes).
 * Fatal errors end the run (Filebeat would restart the source after 5 minutes).
 */
import { Kafka, logLevel, type Producer } from 'kafkajs';
import { Agent, request } from 'undici';
import { eventMessage } from '../src/kafka/messages.ts';
import type { RunningSimulator } from '../src/simulator/index.ts';
import { normalize } from '../src/transform/normalize/index.ts';
import { sleep } from './lib.ts';

const HOUR = 3_600_000;

export interface PeerOptions {
  brokers: string[];
  topic: string;
  /** o365audit's api.max_requests_per_minute (default 2000), split over the configured content types. */
  maxRequestsPerMinute: number;
  contentTypes: number;
  lookbackHours: number;
}

export interface PeerResult {
  seconds: number;
  requests: number;
  blobs: number;
  /** Distinct event ids produced. */
  eventIds: Set<string>;
}

/** Query times as o365audit writes them (dates.go): UTC, seconds, no zone. */
function apiTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export async function runPeerPoller(sim: RunningSimulator, tenantId: string, options: PeerOptions): Promise<PeerResult> {
  const agent = new Agent({ connect: { ca: sim.caPem }, keepAliveTimeout: 10_000 });
  const kafka = new Kafka({ clientId: 'bench-peer', brokers: options.brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: options.topic, numPartitions: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const producer: Producer = kafka.producer();
  await producer.connect();
  const minGapMs = (60_000 * options.contentTypes) / options.maxRequestsPerMinute;
  let lastRequestAt = 0;
  let requests = 0;
  let token = '';
  const pending: Promise<unknown>[] = [];
  const eventIds = new Set<string>();
  let blobs = 0;

  const fetchToken = async (): Promise<void> => {
    const body = new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: sim.scope }).toString();
    const res = await request(sim.tokenUrl(tenantId), { method: 'POST', dispatcher: agent, body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    const json = (await res.body.json()) as { access_token?: string };
    if (res.statusCode !== 200 || json.access_token === undefined) throw new Error(`peer: token refused (${res.statusCode})`);
    token = json.access_token;
  };

  /** One paced API call; a 401 refreshes the token (o365audit fetches one before every request). */
  const call = async (url: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const wait = lastRequestAt + minGapMs - performance.now();
      if (wait > 0) await sleep(wait);
      lastRequestAt = performance.now();
      requests += 1;
      const separator = url.includes('?') ? '&' : '?';
      const res = await request(`${url}${separator}publisherIdentifier=${tenantId}`, { dispatcher: agent, headers: { authorization: `Bearer ${token}`, 'user-agent': 'bench-peer-o365audit' } });
      const text = await res.body.text();
      if (res.statusCode === 401) {
        await fetchToken();
        continue;
      }
      return { status: res.statusCode, headers: res.headers, text };
    }
    throw new Error(`peer: ${url} kept answering 401`);
  };

  const started = performance.now();
  try {
    await fetchToken();
    const feed = sim.feedUrl(tenantId);
    let cursor = Date.now() - options.lookbackHours * HOUR;
    for (;;) {
      const now = Date.now();
      let since = cursor;
      let to = since + 24 * HOUR;
      const live = to > now;
      if (live) {
        since = Math.max(now - 24 * HOUR, cursor);
        to = now;
      }
      let url: string | undefined = `${feed}/subscriptions/content?contentType=Audit.SharePoint&startTime=${apiTime(since)}&endTime=${apiTime(to)}`;
      while (url !== undefined) {
        const page = await call(url);
        if (page.status !== 200) throw new Error(`peer: listing answered ${page.status}: ${page.text.slice(0, 200)}`);
        const items = (JSON.parse(page.text) as { contentUri: string; contentCreated: string; contentId: string }[]).sort((a, b) => a.contentCreated.localeCompare(b.contentCreated) || a.contentId.localeCompare(b.contentId));
        for (const item of items) {
          const blob = await call(item.contentUri);
          if (blob.status === 404) continue; // o365audit drops a 404 blob silently
          if (blob.status !== 200) throw new Error(`peer: blob answered ${blob.status}`);
          blobs += 1;
          const records = JSON.parse(blob.text.replace(/^\uFEFF/, '')) as unknown[];
          const messages = [];
          for (const record of records) {
            const result = normalize(record, { tenantId, now: () => new Date() });
            if (result.kind !== 'event') continue;
            eventIds.add(result.event.event.id);
            messages.push(eventMessage(tenantId, result.event));
          }
          if (messages.length > 0) pending.push(producer.send({ topic: options.topic, messages }));
        }
        const next = page.headers['nextpageuri'];
        url = typeof next === 'string' ? next : undefined;
      }
      cursor = to;
      if (live) break;
    }
    await Promise.all(pending);
    return { seconds: (performance.now() - started) / 1000, requests, blobs, eventIds };
  } finally {
    await Promise.allSettled(pending);
    await producer.disconnect();
    await agent.close();
  }
}
