/**
 * Defensive readers for untyped record fields. Records are untrusted input (and fuzzed), and real
 * ones drift in type: RecordType "6" vs 6, IsManagedDevice "True" vs true. Nothing here throws.
 */
export type RawRecord = Record<string, unknown>;

/** An address-shaped string (UPNs included); shared so every email field follows one rule. */
export const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** Longest string we copy from a record into an event; longer values are cut, never rejected. */
export const MAX_FIELD_CHARS = 4096;

/** A non-empty trimmed string, or null. */
export function text(record: RawRecord, key: string): string | null {
  const value = record[key];
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  if (trimmed === '') return null;
  return trimmed.length > MAX_FIELD_CHARS ? trimmed.slice(0, MAX_FIELD_CHARS) : trimmed;
}

/** A safe integer from a JSON number or a decimal string, or null. */
export function integer(record: RawRecord, key: string): number | null {
  const value = record[key];
  if (typeof value === 'number') return Number.isSafeInteger(value) ? value : null;
  if (typeof value === 'string' && /^\s*-?\d{1,15}\s*$/.test(value)) return Number.parseInt(value, 10);
  return null;
}

/** A boolean from a JSON boolean or "True"/"False" (2020-era records), or null. */
export function boolean(record: RawRecord, key: string): boolean | null {
  const value = record[key];
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    const lowered = value.trim().toLowerCase();
    if (lowered === 'true') return true;
    if (lowered === 'false') return false;
  }
  return null;
}

const CREATION_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * CreationTime → ISO 8601 UTC with milliseconds and `Z`. Records carry `2020-02-07T16:44:07` with no
 * zone, which Microsoft documents as UTC; a `Z` or an explicit offset is honoured too. Impossible
 * dates (Feb 30, hour 24) are null rather than silently rolled over.
 */
export function parseCreationTime(raw: string): string | null {
  const match = CREATION_TIME.exec(raw.trim());
  if (match === null) return null;
  const [, y, mo, d, h, mi, s, fraction, zone] = match;
  const parts = [y, mo, d, h, mi, s].map((part) => Number(part));
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0] = parts;
  const millisText = fraction === undefined ? '000' : fraction.padEnd(3, '0').slice(0, 3);
  // The common case (UTC, no offset) is checked and written without a Date: it ran once per record.
  if (zone === undefined || zone.toUpperCase() === 'Z') {
    if (year < 100 || !validUtcParts(year, month, day, hour, minute, second)) return null;
    return `${y}-${mo}-${d}T${h}:${mi}:${s}.${millisText}Z`;
  }
  const millis = Number(millisText);
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return null;
  }
  const offset = offsetMillis(zone);
  if (Number.isNaN(offset)) return null;
  const iso = new Date(utc - offset).toISOString();
  // An offset can push 9999-12-31 into year 10000, which toISOString writes as +010000-…: not RFC 3339.
  return iso.length === 24 ? iso : null;
}

/** What Date.UTC would not roll over (years 0–99 it reads as 19xx; the caller refuses those). */
function validUtcParts(year: number, month: number, day: number, hour: number, minute: number, second: number): boolean {
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= days;
}

function offsetMillis(zone: string | undefined): number {
  if (zone === undefined || zone.toUpperCase() === 'Z') return 0;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const hours = Number(digits.slice(0, 2));
  const minutes = Number(digits.slice(2, 4));
  if (hours > 23 || minutes > 59) return Number.NaN;
  return sign * (hours * 60 + minutes) * 60_000;
}
