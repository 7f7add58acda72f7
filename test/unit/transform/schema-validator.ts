/** The published JSON Schema, compiled once with ajv (draft 2020-12) + formats, for tests. */
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { readFileSync } from 'node:fs';

const schemaUrl = new URL('../../../schema/file-event.v1.json', import.meta.url);
const schema = JSON.parse(readFileSync(schemaUrl, 'utf8')) as Record<string, unknown>;
const ajv = new Ajv2020({ allErrors: true, strict: true });
// ajv-formats is CommonJS; its default export arrives wrapped under Node's ESM interop.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (a: Ajv2020) => void;
addFormats(ajv);
const check = ajv.compile(schema);

/** Null when valid; otherwise the errors, readable in a failed expectation. */
export function schemaErrors(event: unknown): string | null {
  return check(event) ? null : ajv.errorsText(check.errors, { separator: '\n' });
}
