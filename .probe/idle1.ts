import { startSimulator } from '../src/simulator/index.ts';
import { M, metricSum, MiB, startConnector, sleep } from '../bench/lib.ts';
const sim = await startSimulator({ seed: 'idle1', tenants: [{ historyHours: 1, eventsPerHour: 0, subscribed: ['Audit.SharePoint'] }] });
const connector = await startConnector(sim, 'exactly-once');
await sleep(8000);
const t = await connector.child.metrics();
for (const n of ['nodejs_heap_size_total_bytes', 'nodejs_heap_size_used_bytes', 'nodejs_external_memory_bytes', 'process_resident_memory_bytes']) console.log(n, Math.round(metricSum(t, M + n) / MiB));
if (process.env['SNAP']) { process.kill(connector.child.pid, 'SIGUSR2'); await sleep(8000); }
await connector.close();
await sim.close();
