import { parentPort, workerData } from 'node:worker_threads';
import { startSimulator, type RunningSimulator } from './index.ts';
import type { ThreadSimulatorOptions } from './thread.ts';

// The worker side of startSimulatorThread: start, report what the other thread needs, close on request.
const port = parentPort;
if (port === null) throw new Error('thread-worker.ts runs only as a worker thread (startSimulatorThread)');
let sim: RunningSimulator;
try {
  sim = await startSimulator(workerData as ThreadSimulatorOptions);
} catch (error) {
  port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  throw error;
}
const { baseUrl, caPem, clientId, clientSecret, scope, tenants } = sim;
port.postMessage({ type: 'started', simulator: { baseUrl, port: sim.port, caPem, clientId, clientSecret, scope, tenants } });
port.on('message', (message: { type: string }) => {
  if (message.type !== 'close') return;
  void sim.close().then(() => port.postMessage({ type: 'closed' }));
});
