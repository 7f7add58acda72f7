import { z } from 'zod';
import { cursorKeyString, type Cursor, type CursorKey } from '../contracts/checkpoint.ts';

/**
 * The cursor record on the compacted cursors topic, written by the exactly-once sink (inside its
 * transactions) and by the Kafka checkpoint store (at-least-once). One codec so both agree.
 */
export interface CursorRecord {
  key: string;
  value: string;
  headers: Record<string, string>;
}

const cursorSchema = z.object({
  lowerBound: z.string(),
  done: z.record(z.string(), z.string()),
  positions: z.record(z.string(), z.number().int().min(0)).optional(),
  notBefore: z.string().optional(),
  updatedAt: z.string(),
});

export function encodeCursorRecord(key: CursorKey, cursor: Cursor): CursorRecord {
  const value: Cursor = {
    lowerBound: cursor.lowerBound,
    done: cursor.done,
    ...(cursor.positions === undefined ? {} : { positions: cursor.positions }),
    ...(cursor.notBefore === undefined ? {} : { notBefore: cursor.notBefore }),
    updatedAt: cursor.updatedAt,
  };
  return {
    key: cursorKeyString(key),
    value: JSON.stringify(value),
    headers: { 'content-type': 'application/json' },
  };
}

export type DecodedCursor =
  | { kind: 'cursor'; key: string; cursor: Cursor }
  /** A null value deletes the key, as compaction will. */
  | { kind: 'tombstone'; key: string }
  | { kind: 'invalid'; key: string | null; detail: string };

export function decodeCursorRecord(key: Buffer | null, value: Buffer | null): DecodedCursor {
  if (key === null) return { kind: 'invalid', key: null, detail: 'record has no key' };
  const keyString = key.toString('utf8');
  if (value === null) return { kind: 'tombstone', key: keyString };
  let json: unknown;
  try {
    json = JSON.parse(value.toString('utf8'));
  } catch (error) {
    return { kind: 'invalid', key: keyString, detail: `value is not JSON: ${(error as Error).message}` };
  }
  const parsed = cursorSchema.safeParse(json);
  if (!parsed.success) return { kind: 'invalid', key: keyString, detail: parsed.error.message };
  const { positions, notBefore, ...rest } = parsed.data;
  const cursor: Cursor = { ...rest, ...(positions === undefined ? {} : { positions }), ...(notBefore === undefined ? {} : { notBefore }) };
  return { kind: 'cursor', key: keyString, cursor };
}
