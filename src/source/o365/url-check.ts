/**
 * The canonical check every URL passes before the bearer token may go with it (invariant 4):
 * contentUri and NextPageUri values come from Microsoft's answers, so they are untrusted input.
 *
 * A plain prefix test on the raw text is not enough: `%2F` inside a segment is a separator to many
 * servers and proxies, `..` moves up the tree, `\` is turned into `/` by WHATWG parsers, and userinfo
 * makes a URL read differently to a human than to a client. So the URL is parsed, dot segments are
 * resolved (the WHATWG parser does that, `%2e` forms included), every path segment is percent-decoded
 * once and refused when it then holds a separator, a dot segment, another escape or a control
 * character, and only then are the origin and the feed path compared segment by segment.
 */

export type UrlRefusal = 'unparsable' | 'ambiguous' | 'encoded-separator' | 'origin' | 'path';

export interface UrlTarget {
  /** https://host[:port] — the only origin that may receive the token. */
  origin: string;
  /** The tenant's feed path, e.g. /api/v1.0/<tenant>/activity/feed; the URL must lie strictly below it. */
  basePath: string;
}

export type UrlCheck = { ok: true; url: string } | { ok: false; refusal: UrlRefusal; shown: string; reason: string };

/** Origin and path of a URL for messages and logs: the query (and fragment) may carry anything, so it is cut. */
export function withoutQuery(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.origin}${url.pathname}`;
  } catch {
    const cut = raw.split(/[?#]/)[0] ?? '';
    return cut.length > 200 ? `${cut.slice(0, 200)}…` : cut;
  }
}

// C0 controls and DEL, built from code points so the source holds no control characters.
const CONTROL = new RegExp(`[${String.fromCharCode(0)}-${String.fromCharCode(0x1f)}${String.fromCharCode(0x7f)}]`);

function decodeSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}

/** Why `raw` may not carry the token to `target`, or the URL to call. Pure: no I/O, no logging. */
export function checkUrl(raw: string, target: UrlTarget): UrlCheck {
  const shown = withoutQuery(raw);
  const refuse = (refusal: UrlRefusal, reason: string): UrlCheck => ({ ok: false, refusal, shown, reason });
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return refuse('unparsable', 'not an absolute URL');
  }
  // A backslash is read as "/" by WHATWG parsers but not by every server; userinfo hides the real host.
  if (raw.includes('\\') || CONTROL.test(raw)) return refuse('ambiguous', 'contains a backslash or a control character');
  if (url.username !== '' || url.password !== '') return refuse('ambiguous', 'carries userinfo');
  if (url.origin !== target.origin) return refuse('origin', `the origin is ${url.origin}`);
  const segments: string[] = [];
  for (const segment of url.pathname.split('/').slice(1)) {
    const decoded = decodeSegment(segment);
    if (decoded === undefined) return refuse('ambiguous', 'has a malformed percent escape');
    if (decoded.includes('/') || decoded.includes('\\')) return refuse('encoded-separator', 'a path segment holds an encoded separator (%2F or %5C)');
    if (decoded === '.' || decoded === '..') return refuse('ambiguous', 'a path segment is a dot segment once decoded');
    // Escaped twice (%252F): a server that decodes again would see a separator.
    if (/%[0-9a-f]{2}/i.test(decoded) || CONTROL.test(decoded)) return refuse('ambiguous', 'a path segment is escaped twice or holds a control character');
    segments.push(decoded.toLowerCase());
  }
  const base = target.basePath.split('/').slice(1).map((s) => s.toLowerCase());
  const below = segments.length > base.length && base.every((s, i) => segments[i] === s) && segments.slice(base.length).every((s) => s !== '');
  if (!below) return refuse('path', `the path ${url.pathname} is not below the tenant feed`);
  return { ok: true, url: url.toString() };
}
