import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseCreationTime } from '../../../src/transform/normalize/fields.ts';

/** The Date-based rule the fast path replaced for UTC times: whatever Date.UTC does not roll over. */
function viaDate(year: number, month: number, day: number, hour: number, minute: number, second: number, millis: number): string | null {
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(utc);
  const same =
    check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day && check.getUTCHours() === hour && check.getUTCMinutes() === minute && check.getUTCSeconds() === second;
  return same ? check.toISOString() : null;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

describe('parseCreationTime without an offset (the per-record fast path)', () => {
  it('agrees with Date.UTC on every field combination, impossible dates included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.integer({ min: 0, max: 61 }),
        fc.option(fc.integer({ min: 0, max: 999_999 }), { nil: undefined }),
        fc.constantFrom('', 'Z', 'z'),
        (year, month, day, hour, minute, second, fraction, zone) => {
          const fractionText = fraction === undefined ? '' : `.${String(fraction)}`;
          const raw = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}${fractionText}${zone}`;
          const millis = fraction === undefined ? 0 : Number(String(fraction).padEnd(3, '0').slice(0, 3));
          expect(parseCreationTime(raw), raw).toBe(viaDate(year, month, day, hour, minute, second, millis));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('handles leap days', () => {
    expect(parseCreationTime('2024-02-29T00:00:00')).toBe('2024-02-29T00:00:00.000Z');
    expect(parseCreationTime('2023-02-29T00:00:00')).toBeNull();
    expect(parseCreationTime('2000-02-29T12:00:00.1')).toBe('2000-02-29T12:00:00.100Z');
    expect(parseCreationTime('1900-02-29T12:00:00')).toBeNull();
  });
});
