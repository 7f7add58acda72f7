/**
 * Splits a byte stream into lines for NDJSON, holding at most one line (capped) in memory.
 * Splitting happens on raw bytes: `\n` never occurs inside a multi-byte UTF-8 sequence, so chunk
 * boundaries inside characters are harmless; each complete line is decoded strictly once.
 */
export type Line =
  | { kind: 'line'; text: string; line: number; offset: number }
  | { kind: 'oversized'; line: number; offset: number; limit: number; rawPrefix: string }
  | { kind: 'invalid-utf8'; line: number; offset: number };

const PREFIX_BYTES = 1024;

export async function* splitLines(
  head: Uint8Array,
  headOffset: number,
  rest: AsyncIterable<Uint8Array>,
  maxLineBytes: number,
): AsyncGenerator<Line> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let parts: Uint8Array[] = [];
  let size = 0;
  let lineNumber = 1;
  let lineOffset = headOffset;
  let streamOffset = headOffset;
  // Once a line passes the cap, the rest of it is skipped instead of buffered.
  let skipping: { rawPrefix: string } | undefined;

  const finish = (): Line | undefined => {
    let result: Line | undefined;
    if (skipping !== undefined) {
      result = { kind: 'oversized', line: lineNumber, offset: lineOffset, limit: maxLineBytes, rawPrefix: skipping.rawPrefix };
    } else if (size > 0) {
      const bytes = parts.length === 1 ? (parts[0] ?? new Uint8Array(0)) : Buffer.concat(parts, size);
      try {
        result = { kind: 'line', text: decoder.decode(bytes), line: lineNumber, offset: lineOffset };
      } catch {
        result = { kind: 'invalid-utf8', line: lineNumber, offset: lineOffset };
      }
    }
    parts = [];
    size = 0;
    skipping = undefined;
    return result;
  };

  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield head;
    yield* rest;
  }

  for await (const chunk of chunks()) {
    let from = 0;
    while (from < chunk.length) {
      const newline = chunk.indexOf(0x0a, from);
      const end = newline < 0 ? chunk.length : newline;
      if (skipping === undefined) {
        parts.push(chunk.subarray(from, end));
        size += end - from;
        if (size > maxLineBytes) {
          const prefix = Buffer.concat(parts, size).subarray(0, PREFIX_BYTES);
          skipping = { rawPrefix: new TextDecoder().decode(prefix) };
          parts = [];
        }
      }
      if (newline < 0) break;
      const done = finish();
      if (done !== undefined) yield done;
      lineNumber += 1;
      lineOffset = streamOffset + newline + 1;
      from = newline + 1;
    }
    streamOffset += chunk.length;
  }
  const last = finish();
  if (last !== undefined) yield last;
}
