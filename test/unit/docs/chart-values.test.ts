// values.yaml is the chart's documentation: every top-level value has a comment, and values.schema.json
// describes exactly the values values.yaml has (a key in one and not the other is a drift).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { isMap, isScalar, parseDocument } from 'yaml';
import { describe, expect, it } from 'vitest';

const CHART = resolve(import.meta.dirname, '../../../helm/onedrive-connector');
const values = parseDocument(readFileSync(join(CHART, 'values.yaml'), 'utf8'));
const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as { properties: Record<string, unknown>; additionalProperties: boolean };

describe('the chart’s values.yaml', () => {
  it('comments every top-level value (or the group it opens)', () => {
    if (!isMap(values.contents)) throw new Error('values.yaml is not a mapping');
    const uncommented: string[] = [];
    let previousCommented = false;
    values.contents.items.forEach((item, index) => {
      const key = isScalar(item.key) ? String(item.key.value) : '?';
      const comment = index === 0 ? (item.key as { commentBefore?: string }).commentBefore ?? values.commentBefore : (item.key as { commentBefore?: string }).commentBefore;
      // A run of keys with no blank line between them shares the comment above the first one.
      const sharesGroup = previousCommented && !(item.key as { spaceBefore?: boolean }).spaceBefore;
      if (!comment && !sharesGroup) uncommented.push(key);
      previousCommented = Boolean(comment) || sharesGroup;
    });
    expect(uncommented).toEqual([]);
  });

  it('has exactly the top-level keys values.schema.json describes, and the schema allows no others', () => {
    const keys = isMap(values.contents) ? values.contents.items.map((item) => String((item.key as { value: unknown }).value)) : [];
    expect(keys.sort()).toEqual(Object.keys(schema.properties).sort());
    expect(schema.additionalProperties).toBe(false);
  });
});
