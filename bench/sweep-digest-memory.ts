/**
 * `node --expose-gc bench/sweep-digest-memory.ts [tenants] [blobsPerDay]`: a measurement, not a test.
 * What the reconciliation sweep's digests (src/source/sweep/delivered-digests.ts) hold in memory for
 * `tenants` tenants (default 10,000) delivering `blobsPerDay` blobs a day (default 100) for the 7 days
 * the API keeps, once loaded and packed. Prints one JSON line.
 */
import { contentIdHash, DeliveredDigests } from '../src/source/sweep/delivered-digests.ts';

const tenants = Number(process.argv[2] ?? 10_000);
const perDay = Number(process.argv[3] ?? 100);
const now = Date.parse('2026-11-20T12:00:00Z');
const DAY_MS = 86_400_000;
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i += 1) {
    globalThis.gc?.();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
};

await settle();
const before = process.memoryUsage();
const digests = new DeliveredDigests();
const started = Date.now();
for (let t = 0; t < tenants; t += 1) {
  const key = `${t.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000|Audit.SharePoint`;
  for (let i = 0; i < perDay * 7; i += 1) {
    // contentIds shaped like SharePoint's (~90 characters); only their 8-byte hash is kept.
    const contentId = `${t}$${i}$0123456789abcdef0123456789abcdefspo2026112012$0123456789abcdef0123456789abcdef$04`;
    digests.add(key, contentIdHash(contentId), now - Math.floor((i / (perDay * 7)) * 7 * DAY_MS));
  }
}
digests.prune(now - 7 * DAY_MS);
const buildMs = Date.now() - started;
await settle();
const after = process.memoryUsage();
const mib = (bytes: number): number => Math.round((bytes / 2 ** 20) * 10) / 10;
console.log(
  JSON.stringify({
    tenants,
    blobsPerDay: perDay,
    ...digests.stats(),
    heapUsedMiB: mib(after.heapUsed - before.heapUsed),
    typedArraysMiB: mib(after.arrayBuffers - before.arrayBuffers),
    totalMiB: mib(after.heapUsed - before.heapUsed + after.arrayBuffers - before.arrayBuffers),
    buildMs,
  }),
);
