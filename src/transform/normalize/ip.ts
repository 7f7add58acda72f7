import { isIP } from 'node:net';

/**
 * ClientIP → a bare IP address, or null. Seen forms: `1.2.3.4`, IPv6, `::ffff:1.2.3.4` (IPv4-mapped),
 * `[2001:db8::1]:443`, `1.2.3.4:8080`, and `""` (app-only and malware-scan records).
 * Anything else (a hostname, garbage) is null: `source.ip` must always be a valid address.
 */
export function normalizeIp(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  let candidate = value.trim();
  if (candidate === '' || candidate.length > 64) return null;
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(candidate);
  if (bracketed?.[1] !== undefined) candidate = bracketed[1];
  else if (/^\d{1,3}(?:\.\d{1,3}){3}:\d{1,5}$/.test(candidate)) candidate = candidate.slice(0, candidate.lastIndexOf(':'));
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(candidate);
  if (mapped?.[1] !== undefined) candidate = mapped[1];
  const version = isIP(candidate);
  if (version === 4) return candidate;
  if (version === 6 && !candidate.includes('%')) return candidate.toLowerCase();
  return null;
}
