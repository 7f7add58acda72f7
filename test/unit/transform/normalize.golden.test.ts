/**
 * Golden files: test/golden/normalize/<case>.input.json → <case>.expected.json (the NormalizeResult).
 * `UPDATE_GOLDEN=1 npx vitest run test/unit/transform/normalize.golden.test.ts` rewrites the expected
 * files; review the diff before committing. `event.inserted` is pinned so goldens are stable.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { normalize } from '../../../src/transform/normalize/index.ts';
import { schemaErrors } from './schema-validator.ts';

const folder = new URL('../../golden/normalize/', import.meta.url);
const cases = readdirSync(folder)
  .filter((name) => name.endsWith('.input.json'))
  .map((name) => name.slice(0, -'.input.json'.length))
  .sort();
const update = process.env.UPDATE_GOLDEN === '1';
const context = {
  tenantId: 'context-tenant',
  now: () => new Date('2025-01-01T00:00:00.000Z'),
  ownerIndex: new Map([['bob_contoso_com', 'Bob@Contoso.com']]),
};

describe('normalize goldens', () => {
  it('has golden cases', () => {
    expect(cases.length).toBeGreaterThan(50);
  });

  it.each(cases)('%s', (name) => {
    const input: unknown = JSON.parse(readFileSync(new URL(`${name}.input.json`, folder), 'utf8'));
    const result = normalize(input, context);
    const expectedUrl = new URL(`${name}.expected.json`, folder);
    if (update) writeFileSync(expectedUrl, `${JSON.stringify(result, null, 2)}\n`);
    expect(result).toEqual(JSON.parse(readFileSync(expectedUrl, 'utf8')));
    if (result.kind === 'event') expect(schemaErrors(result.event)).toBeNull();
    // The case name states the expected outcome, so a regenerated golden cannot silently flip it.
    if (name.startsWith('filtered-')) expect(result.kind).toBe('filtered');
    else if (name.startsWith('rejected-')) expect(result.kind).toBe('rejected');
    else if (!name.endsWith('-filtered')) expect(result.kind).toBe('event');
  });
});
