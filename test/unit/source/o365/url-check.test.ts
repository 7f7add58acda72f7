import { describe, expect, it } from 'vitest';
import { checkUrl, withoutQuery } from '../../../../src/source/o365/url-check.ts';

const TENANT = '6b1c9a5e-0f2d-4c3b-9a8e-7d6f5e4c3b2a';
const OTHER = '00000000-0000-4000-8000-0000000000ff';
const ORIGIN = 'https://manage.example.test';
const target = { origin: ORIGIN, basePath: `/api/v1.0/${TENANT}/activity/feed` };
const FEED = `${ORIGIN}${target.basePath}`;

describe('checkUrl: the canonical check before the token may go with a URL', () => {
  it.each([
    [`${FEED}/audit/20261120$abc$def`],
    [`${FEED}/subscriptions/content?contentType=Audit.SharePoint&nextPage=x`],
    [`${ORIGIN}/api/v1.0/${TENANT.toUpperCase()}/activity/feed/audit/x`],
    // Dot segments that stay inside the feed resolve to a URL inside it.
    [`${FEED}/audit/./x`],
  ])('accepts %s', (raw) => {
    expect(checkUrl(raw, target)).toMatchObject({ ok: true });
  });

  it.each([
    ['encoded slash out of the feed', `${FEED}/..%2F..%2F..%2F${OTHER}%2Factivity%2Ffeed%2Faudit/x`, 'encoded-separator'],
    ['encoded slash, lower case', `${FEED}/audit/a%2fb`, 'encoded-separator'],
    ['encoded backslash', `${FEED}/audit/a%5Cb`, 'encoded-separator'],
    ['dot segments out of the feed', `${FEED}/audit/../../../${OTHER}/activity/feed/audit/x`, 'path'],
    ['encoded dot segments out of the feed', `${FEED}/audit/%2e%2e/%2E%2E/%2e%2e/${OTHER}/activity/feed/audit/x`, 'path'],
    ['a double-encoded slash', `${FEED}/audit/a%252Fb`, 'ambiguous'],
    ['a raw backslash', `${FEED}\\..\\..\\x`, 'ambiguous'],
    ['userinfo', `https://user:pw@manage.example.test${target.basePath}/audit/x`, 'ambiguous'],
    ['a malformed escape', `${FEED}/audit/%zz`, 'ambiguous'],
    ['another host', `https://evil.example.invalid${target.basePath}/audit/x`, 'origin'],
    ['another port', `https://manage.example.test:8443${target.basePath}/audit/x`, 'origin'],
    ['plain http', `http://manage.example.test${target.basePath}/audit/x`, 'origin'],
    ['another tenant on the right host', `${ORIGIN}/api/v1.0/${OTHER}/activity/feed/audit/x`, 'path'],
    ['the feed path itself', FEED, 'path'],
    ['a path that only starts like the feed', `${FEED}evil/audit/x`, 'path'],
    ['not a URL', 'audit/x', 'unparsable'],
  ])('refuses %s', (_label, raw, refusal) => {
    const result = checkUrl(raw, target);
    expect(result).toMatchObject({ ok: false, refusal });
  });

  it('names the URL without its query in refusals', () => {
    const result = checkUrl(`https://evil.example.invalid/x/audit/y?sig=SECRET`, target);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.shown).toBe('https://evil.example.invalid/x/audit/y');
      expect(JSON.stringify(result)).not.toContain('SECRET');
    }
    expect(withoutQuery('not a url?token=SECRET')).toBe('not a url');
  });
});
