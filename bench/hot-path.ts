/**
 * The hot path on one in-memory blob: parse → normalize → serialize (the Kafka message value), against
 * the JSON round-trip limit measured in the same run on the same blob (one JSON.parse of the blob,
 * then JSON.stringify of each record). Run alone for a profile:
 *   node --cpu-prof --cpu-prof-dir=.cache/profiles bench/hot-path.ts
 */
import { eventMessage } from '../src/kafka/messages.ts';
import { inMemorySource } from '../src/parse/in-memory.ts';
import { parseRecords } from '../src/parse/records.ts';
import { buildRecord } from '../src/simulator/data/records.ts';
import { buildTenantModel } from '../src/simulator/data/tenant-model.ts';
import { rngFor } from '../src/simulator/prng.ts';
import { normalize } from '../src/transform/normalize/index.ts';

const TENANT_ID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

export interface HotPathRun {
  records: number;
  bytes: number;
  /** records/s of JSON.parse(blob) + JSON.stringify(record) for each record. */
  jsonLimit: number;
  /** records/s of parseRecords → normalize → eventMessage. */
  pipeline: number;
  ratio: number;
}

/** One JSON-array blob of about `bytes` bytes of generated records, as the spool holds it (64 KiB chunks). */
export function generatedBlob(bytes: number): { chunks: Uint8Array[]; size: number; records: number } {
  const model = buildTenantModel('bench', TENANT_ID, 'contoso');
  const now = Date.UTC(2026, 0, 15, 12);
  const pool = Array.from({ length: 20_000 }, (_, i) => JSON.stringify(buildRecord(rngFor('bench', TENANT_ID, i), model, now)));
  const parts: string[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    // Distinct ids, so the pipeline's work is that of distinct records.
    const json = (pool[i % pool.length] ?? '{}').replace(/"Id":"[^"]*"/, `"Id":"${i.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000"`);
    parts.push(json);
    size += Buffer.byteLength(json) + 1;
  }
  const blob = Buffer.from(`\uFEFF[${parts.join(',')}]`, 'utf8');
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < blob.length; at += 64 * 1024) chunks.push(blob.subarray(at, at + 64 * 1024));
  return { chunks, size: blob.length, records: parts.length };
}

function jsonRoundTrip(chunks: Uint8Array[], size: number): number {
  const values = JSON.parse(Buffer.concat(chunks, size).toString('utf8').replace(/^\uFEFF/, '')) as unknown[];
  let bytes = 0;
  for (const value of values) bytes += JSON.stringify(value).length;
  return bytes;
}

async function pipeline(chunks: Uint8Array[], size: number): Promise<number> {
  const context = { tenantId: TENANT_ID, now: () => new Date() };
  let bytes = 0;
  for await (const item of parseRecords(inMemorySource(chunks, size))) {
    if (item.kind !== 'record') continue;
    const result = normalize(item.value, context);
    if (result.kind === 'event') bytes += eventMessage(TENANT_ID, result.event).value.length;
  }
  return bytes;
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

/** Alternates the two measurements `runs` times on the same blob, so load on the machine hits both alike. */
export async function measureHotPath(blobBytes: number, runs: number, log: (message: string) => void = () => undefined): Promise<HotPathRun[]> {
  const blob = generatedBlob(blobBytes);
  // Warm-up on a smaller blob of the same records, so the first timed run is not the JIT's.
  const warm = generatedBlob(Math.min(blobBytes, 8e6));
  for (let i = 0; i < 2; i++) {
    jsonRoundTrip(warm.chunks, warm.size);
    await pipeline(warm.chunks, warm.size);
  }
  const out: HotPathRun[] = [];
  for (let run = 0; run < runs; run++) {
    // CPU time, not wall time: on a shared machine the wall clock also counts waiting for a core.
    let started = process.cpuUsage();
    jsonRoundTrip(blob.chunks, blob.size);
    const jsonSeconds = cpuSeconds(started);
    started = process.cpuUsage();
    await pipeline(blob.chunks, blob.size);
    const pipelineSeconds = cpuSeconds(started);
    const result = { records: blob.records, bytes: blob.size, jsonLimit: blob.records / jsonSeconds, pipeline: blob.records / pipelineSeconds, ratio: jsonSeconds / pipelineSeconds };
    log(`hot path run ${run + 1}: ${blob.records} records; JSON limit ${result.jsonLimit.toFixed(0)}/s, pipeline ${result.pipeline.toFixed(0)}/s, ratio ${result.ratio.toFixed(2)}`);
    out.push(result);
  }
  return out;
}

if (import.meta.main) {
  const mb = Number(process.env['BENCH_HOT_PATH_MB'] ?? 48);
  await measureHotPath(mb * 1e6, Number(process.env['BENCH_RUNS'] ?? 3), (m) => process.stderr.write(`${m}\n`));
}
