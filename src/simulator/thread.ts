import { Worker } from 'node:worker_threads';
import { systemClock } from '../contracts/clock.ts';
import type { RunningSimulator, SimulatorOptions } from './index.ts';

/** What a caller of a simulator on its own thread can use: addresses, credentials, tenants, the clock, close. */
export type SimulatorHandle = Pick<RunningSimulator, 'baseUrl' | 'port' | 'caPem' | 'clientId' | 'clientSecret' | 'scope' | 'tenants' | 'clock' | 'close'>;

/** Options that can cross to a worker thread: data only (no clock, no logger), simulator time = wall time. */
export type ThreadSimulatorOptions = Omit<SimulatorOptions, 'clock' | 'logger' | 'speedFactor'>;

type Started = Pick<RunningSimulator, 'baseUrl' | 'port' | 'caPem' | 'clientId' | 'clientSecret' | 'scope' | 'tenants'>;
type FromWorker = { type: 'started'; simulator: Started } | { type: 'closed' } | { type: 'failed'; message: string };

/**
 * The simulator on a worker thread of its own. In the quick start the simulator generated every
 * blob body and answered every TLS request on the connector's event loop: a fifth of the CPU the
 * catch-up took, and none of it on the machine's other core. On its own thread it runs beside the
 * connector, as Microsoft's service would. Simulator time is the wall clock on both threads.
 */
export async function startSimulatorThread(options: ThreadSimulatorOptions): Promise<SimulatorHandle> {
  const worker = new Worker(new URL('./thread-worker.ts', import.meta.url), { workerData: options });
  const started = await new Promise<Started>((resolve, reject) => {
    const fail = (error: Error): void => {
      void worker.terminate();
      reject(error);
    };
    worker.once('error', fail);
    worker.once('exit', (code) => fail(new Error(`The simulator thread exited (code ${code}) before it started`)));
    worker.once('message', (message: FromWorker) => {
      worker.removeAllListeners('exit');
      worker.removeListener('error', fail);
      if (message.type === 'started') resolve(message.simulator);
      else fail(new Error(message.type === 'failed' ? message.message : 'The simulator thread answered out of turn'));
    });
  });
  // After start-up a failing simulator thread shows as failing requests; it must not crash the process.
  worker.on('error', () => undefined);
  let closed: Promise<void> | undefined;
  return {
    ...started,
    clock: systemClock,
    close: () => {
      closed ??= new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.once('message', () => void worker.terminate());
        worker.postMessage({ type: 'close' });
      });
      return closed;
    },
  };
}
