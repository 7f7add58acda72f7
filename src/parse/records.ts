/**
 * Streaming record parser for Audit.SharePoint content blobs.
 *
 * Blobs are JSON arrays that can be hundreds of megabytes, may start with a UTF-8 BOM and arrive in
 * arbitrary chunks. This turns a byte stream into records one at a time, so memory is bounded by the
 * largest single record (capped by `maxRecordBytes`), never by the blob. Being an async generator,
 * it reads the next chunk only when the consumer asks for the next item: that is the backpressure.
 *
 * Formats, detected from the first significant byte:
 * - `[` — a JSON array (what the API serves): each element is a record. A syntax error or a truncated
 *   array yields the records before it, then one `malformed` item, then stops (an array cannot be
 *   resynchronised reliably).
 * - otherwise NDJSON (one value per line) — a bad line is one `malformed` item and parsing continues.
 *   Exception: when the input starts with `{` and its first line is neither valid JSON nor ends with
 *   `}`, it is taken as one (pretty-printed) JSON document, streamed like an array element.
 *
 * Every item carries `index`, its ordinal among the items yielded (records and malformed alike).
 *
 * A blob already in memory (`inMemorySource`, the spool's in-memory blobs) takes the hot path: one
 * native `JSON.parse` of the whole blob (BOM tolerated). The items are the same as streaming would
 * give; input `JSON.parse` refuses (or invalid UTF-8) goes through the streaming parser instead, so a
 * malformed blob still yields what parsed before the damage. `maxRecordBytes` bounds memory while
 * streaming; an in-memory blob is already inside the spool's byte budget, so it is not re-checked.
 */
import { Tokenizer, TokenParser } from '@streamparser/json';
import { createReadStream } from 'node:fs';
import type { ParsedElementInfo } from '@streamparser/json/utils/types/parsedElementInfo.js';
import type { ParsedTokenInfo } from '@streamparser/json/utils/types/parsedTokenInfo.js';
import { isUtf8 } from 'node:buffer';
import { wholeContent } from './in-memory.ts';
import { splitLines, type Line } from './lines.ts';

export type ParsedItem =
  | { kind: 'record'; value: unknown; index: number }
  | { kind: 'malformed'; detail: string; raw: string | null; index: number };

export interface ParseOptions {
  /** A record (or NDJSON line) larger than this is malformed. Default 16 MiB. */
  maxRecordBytes?: number;
}

export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024;
/** How much of an offending input is kept in `raw`, so a dead letter never carries a whole blob. */
export const RAW_SNIPPET_CHARS = 1024;

const BOM = [0xef, 0xbb, 0xbf] as const;
const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

type Outcome = { kind: 'record'; value: unknown } | { kind: 'malformed'; detail: string; raw: string | null };

export function parseRecords(source: AsyncIterable<Uint8Array>, options: ParseOptions = {}): AsyncIterableIterator<ParsedItem> {
  const whole = wholeContent(source);
  return whole === undefined ? parseStream(source, options) : parseInMemory(whole, source, options);
}

/**
 * The hot path as a plain iterator over already-parsed values: an async generator here would cost a
 * few promise hops per record, which the profile showed next to the normalizer's own cost. Parses on
 * the first `next()`, like the generator it stands for.
 */
function parseInMemory(whole: Uint8Array, source: AsyncIterable<Uint8Array>, options: ParseOptions): AsyncIterableIterator<ParsedItem> {
  let items: Iterator<ParsedItem> | AsyncIterator<ParsedItem> | undefined;
  const iterator: AsyncIterableIterator<ParsedItem> = {
    next: () => {
      items ??= parseWhole(whole) ?? parseStream(source, options);
      return Promise.resolve(items.next());
    },
    return: async () => {
      await items?.return?.();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
  };
  return iterator;
}

async function* parseStream(source: AsyncIterable<Uint8Array>, options: ParseOptions): AsyncGenerator<ParsedItem> {
  const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
  const iterator = source[Symbol.asyncIterator]();
  const head = await readHead(iterator);
  if (head === undefined) return;

  const rest: AsyncIterable<Uint8Array> = { [Symbol.asyncIterator]: () => iterator };
  let index = 0;
  let inner: AsyncGenerator<Outcome>;
  if (head.firstByte === 0x5b /* [ */) {
    inner = streamDocument(head.bytes, head.offset, rest, ['$.*'], maxRecordBytes);
  } else if (head.firstByte === 0x7b /* { */ && (await isMultiLineDocument(head, iterator, maxRecordBytes))) {
    inner = streamDocument(head.bytes, head.offset, rest, ['$'], maxRecordBytes);
  } else {
    inner = ndjson(splitLines(head.bytes, head.offset, rest, maxRecordBytes));
  }
  for await (const outcome of inner) {
    yield { ...outcome, index: index++ };
  }
}

/**
 * The hot path: the whole blob through one `JSON.parse`, or undefined when that refuses it (the caller
 * then streams). An array's elements are handed out one by one and dropped from the array as they go,
 * so each record can be collected once the consumer is done with it.
 */
function parseWhole(bytes: Uint8Array): Generator<ParsedItem> | undefined {
  if (!isUtf8(bytes)) return undefined;
  let text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(value) ? elements(value) : single(value);
}

function* elements(values: unknown[]): Generator<ParsedItem> {
  for (let index = 0; index < values.length; index++) {
    const value: unknown = values[index];
    values[index] = undefined;
    yield { kind: 'record', value, index };
  }
}

function* single(value: unknown): Generator<ParsedItem> {
  yield { kind: 'record', value, index: 0 };
}

/** Helpers for CLI and tests: a buffer or string served in chunks, as a download would be. */
export function fromBuffer(data: Uint8Array | string, chunkSize = 64 * 1024): AsyncIterable<Uint8Array> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return {
    [Symbol.asyncIterator]: () => {
      let at = 0;
      return {
        next: (): Promise<IteratorResult<Uint8Array>> => {
          if (at >= bytes.length) return Promise.resolve({ done: true, value: undefined });
          const value = bytes.subarray(at, Math.min(at + chunkSize, bytes.length));
          at += chunkSize;
          return Promise.resolve({ done: false, value });
        },
      };
    },
  };
}

export async function* fromFile(path: string): AsyncGenerator<Uint8Array> {
  for await (const chunk of createReadStream(path, { highWaterMark: 64 * 1024 })) {
    yield chunk as Buffer;
  }
}

interface Head {
  /** Bytes after the BOM and leading whitespace, starting with the first significant byte. */
  bytes: Uint8Array;
  /** Stream offset of `bytes[0]`. */
  offset: number;
  firstByte: number;
}

/** Skips a BOM (even when split across chunks) and leading whitespace; undefined for empty input. */
async function readHead(iterator: AsyncIterator<Uint8Array>): Promise<Head | undefined> {
  let pending: Uint8Array = new Uint8Array(0);
  let offset = 0;
  let bomChecked = false;
  for (;;) {
    const next = await iterator.next();
    if (next.done === true) {
      if (!bomChecked) pending = stripBom(pending);
      const start = firstSignificant(pending);
      if (start < 0) return undefined;
      return { bytes: pending.subarray(start), offset: offset + start, firstByte: pending[start] ?? 0 };
    }
    pending = concat(pending, next.value);
    if (!bomChecked) {
      if (pending.length < BOM.length && BOM.slice(0, pending.length).every((b, i) => pending[i] === b)) continue;
      const stripped = stripBom(pending);
      offset += pending.length - stripped.length;
      pending = stripped;
      bomChecked = true;
    }
    const start = firstSignificant(pending);
    if (start >= 0) return { bytes: pending.subarray(start), offset: offset + start, firstByte: pending[start] ?? 0 };
    offset += pending.length;
    pending = new Uint8Array(0);
  }
}

function stripBom(bytes: Uint8Array): Uint8Array {
  return bytes.length >= 3 && BOM.every((b, i) => bytes[i] === b) ? bytes.subarray(3) : bytes;
}

function firstSignificant(bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) if (!WHITESPACE.has(bytes[i] ?? 0)) return i;
  return -1;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * Reads on until the head holds the whole first line (or the input ends, or the line passes the
 * record limit), then decides: a first line that is valid JSON or ends with `}` is NDJSON (a broken
 * first record must not hide the good lines after it); anything else is one multi-line document.
 */
async function isMultiLineDocument(
  head: Head,
  iterator: AsyncIterator<Uint8Array>,
  maxRecordBytes: number,
): Promise<boolean> {
  let newline = head.bytes.indexOf(0x0a);
  while (newline < 0 && head.bytes.length <= maxRecordBytes) {
    const next = await iterator.next();
    if (next.done === true) break;
    head.bytes = concat(head.bytes, next.value);
    newline = head.bytes.indexOf(0x0a);
  }
  if (newline < 0) return false;
  const firstLine = new TextDecoder().decode(head.bytes.subarray(0, newline)).trim();
  if (firstLine.endsWith('}')) return false;
  try {
    JSON.parse(firstLine);
    return false;
  } catch {
    return true;
  }
}

async function* ndjson(lines: AsyncGenerator<Line>): AsyncGenerator<Outcome> {
  for await (const item of lines) {
    const where = `line ${item.line} at byte ${item.offset}`;
    if (item.kind === 'oversized') {
      yield { kind: 'malformed', detail: `${where} exceeds ${item.limit} bytes`, raw: item.rawPrefix };
    } else if (item.kind === 'invalid-utf8') {
      yield { kind: 'malformed', detail: `${where} is not valid UTF-8`, raw: null };
    } else if (item.text.trim() !== '') {
      try {
        yield { kind: 'record', value: JSON.parse(item.text) as unknown };
      } catch (error) {
        yield {
          kind: 'malformed',
          detail: `${where}: ${error instanceof Error ? error.message : String(error)}`,
          raw: item.text.slice(0, RAW_SNIPPET_CHARS),
        };
      }
    }
  }
}

/**
 * Streams one JSON document through @streamparser/json, emitting the values matched by `paths`.
 * The tokenizer and token parser are wired by hand so each completed value's end offset is known,
 * which is what bounds a single record's size.
 */
async function* streamDocument(
  head: Uint8Array,
  headOffset: number,
  rest: AsyncIterable<Uint8Array>,
  paths: string[],
  maxRecordBytes: number,
): AsyncGenerator<Outcome> {
  const tokenizer = new Tokenizer();
  // A top-level document may be followed by more documents (separator ''); an array stands alone.
  const parser = new TokenParser(paths[0] === '$' ? { paths, keepStack: false, separator: '' } : { paths, keepStack: false });
  const ready: unknown[] = [];
  let failure: string | undefined;
  let lastTokenEnd = 0;
  let recordStart = 0;
  let fed = 0;

  tokenizer.onToken = (token: ParsedTokenInfo): void => {
    lastTokenEnd = token.offset;
    if (parser.isEnded) {
      failure ??= `unexpected data after the end of the document at byte ${headOffset + token.offset}`;
      return;
    }
    parser.write(token);
  };
  tokenizer.onError = (error: Error): void => {
    failure ??= `${error.message} (in the chunk from stream byte ${headOffset + fed})`;
  };
  parser.onValue = ({ value }: ParsedElementInfo): void => {
    ready.push(value);
    recordStart = lastTokenEnd + 1;
  };
  parser.onError = (error: Error): void => {
    failure ??= `${error.message} (in the chunk from stream byte ${headOffset + fed})`;
  };

  let lastChunk: Uint8Array = head;
  let lastChunkAt = 0;
  const feed = (chunk: Uint8Array): void => {
    lastChunk = chunk;
    lastChunkAt = fed;
    try {
      tokenizer.write(chunk);
    } catch (error) {
      failure ??= `${error instanceof Error ? error.message : String(error)} (in the chunk from stream byte ${headOffset + fed})`;
    }
    fed += chunk.length;
    if (failure === undefined && fed - recordStart > maxRecordBytes) {
      failure = `record starting near byte ${headOffset + recordStart} exceeds ${maxRecordBytes} bytes`;
    }
  };

  feed(head);
  yield* drain(ready);
  if (failure === undefined) {
    for await (const chunk of rest) {
      feed(chunk);
      yield* drain(ready);
      if (failure !== undefined) break;
    }
  }
  if (failure === undefined) {
    try {
      tokenizer.end();
      if (!parser.isEnded) parser.end();
    } catch (error) {
      failure ??= error instanceof Error ? error.message : String(error);
    }
    yield* drain(ready);
  }
  if (failure !== undefined) {
    const detail = /byte \d+/.test(failure) ? failure : `${failure} (stream byte ${headOffset + fed})`;
    // Everything after the last complete record is lost to this item: say where that starts, and show it
    // from there (not the start of the chunk, which may hold records already yielded).
    const unread = Math.max(0, recordStart - lastChunkAt);
    yield { kind: 'malformed', detail: `${detail}; not read from stream byte ${headOffset + recordStart} on`, raw: snippet(lastChunk.subarray(Math.min(unread, lastChunk.length))) };
  }
}

function* drain(ready: unknown[]): Generator<Outcome> {
  for (const value of ready) yield { kind: 'record', value };
  ready.length = 0;
}

function snippet(chunk: Uint8Array): string | null {
  if (chunk.length === 0) return null;
  return new TextDecoder('utf-8', { fatal: false }).decode(chunk.subarray(0, RAW_SNIPPET_CHARS * 4)).slice(0, RAW_SNIPPET_CHARS);
}
