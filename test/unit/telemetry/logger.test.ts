import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../../src/telemetry/logger.ts';

function capture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('logger redaction (DESIGN invariant 4: secrets never reach logs)', () => {
  it('blanks secrets, tokens and authorization headers wherever they appear', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', destination: stream });
    logger.info(
      {
        clientSecret: 's3cret-value',
        auth: { clientSecret: 's3cret-value', privateKey: '-----BEGIN PRIVATE KEY-----' },
        headers: { authorization: 'Bearer eyJ-token' },
        response: { access_token: 'eyJ-token' },
        tenant: 'kept',
      },
      'Something happened',
    );
    const text = lines.join('');
    expect(text).not.toContain('s3cret-value');
    expect(text).not.toContain('eyJ-token');
    expect(text).not.toContain('BEGIN PRIVATE KEY');
    expect(text).toContain('[redacted]');
    expect(text).toContain('"tenant":"kept"');
  });
});
