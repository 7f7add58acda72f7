import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startStatusServer, type ReadinessCheck } from '../../../src/runtime/status-server.ts';

describe('status server probes (docs/health.md)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  async function serve(state: { started: boolean; kafka: boolean }, extra: ReadinessCheck[] = []): Promise<string> {
    const server = await startStatusServer({
      host: '127.0.0.1',
      port: 0,
      registry: new Registry(),
      statuses: () => ({}),
      started: () => state.started,
      readiness: [
        { name: 'started', check: () => ({ ok: state.started, detail: 'start-up has not finished' }) },
        { name: 'kafka', check: () => ({ ok: state.kafka, detail: 'no answer within 5000 ms' }) },
        ...extra,
      ],
    });
    close = () => server.close();
    return server.url;
  }

  const probe = async (url: string): Promise<[number, string]> => {
    const response = await fetch(url);
    return [response.status, await response.text()];
  };

  it('/livez answers whatever Kafka and start-up do; /startupz and /readyz follow their inputs', async () => {
    const state = { started: false, kafka: false };
    const url = await serve(state);
    expect((await probe(`${url}/livez`))[0]).toBe(200);
    expect((await probe(`${url}/healthz`))[0]).toBe(200);
    expect(await probe(`${url}/startupz`)).toEqual([503, 'starting\n']);
    expect(await probe(`${url}/readyz`)).toEqual([503, '[-]started failed: start-up has not finished\n[-]kafka failed: no answer within 5000 ms\nnot ready\n']);

    state.started = true;
    expect(await probe(`${url}/startupz`)).toEqual([200, 'started\n']);
    expect(await probe(`${url}/readyz`)).toEqual([503, '[+]started ok\n[-]kafka failed: no answer within 5000 ms\nnot ready\n']);
    expect((await probe(`${url}/livez`))[0]).toBe(200);

    state.kafka = true;
    expect(await probe(`${url}/readyz`)).toEqual([200, '[+]started ok\n[+]kafka ok\nready\n']);
  });

  it('counts a check that throws as failed, naming the error', async () => {
    const url = await serve({ started: true, kafka: true }, [
      {
        name: 'spool',
        check: () => {
          throw new Error('spool directory not writable');
        },
      },
    ]);
    const [status, text] = await probe(`${url}/readyz`);
    expect(status).toBe(503);
    expect(text).toContain('[-]spool failed: spool directory not writable');
  });
});
