import { describe, expect, it } from 'vitest';
import { API_ERRORS, classifyAnswer, parseRetryAfter, parseStartRetryText } from '../../../../src/source/o365/answers.ts';

const NOW = Date.parse('2026-11-20T12:00:00Z');
const af = (code: string, message = 'x'): string => JSON.stringify({ error: { code, message } });
const classify = (status: number, body: string, stage: Parameters<typeof classifyAnswer>[1] = 'listing', headers: Record<string, string> = {}) =>
  classifyAnswer({ status, body, headers }, stage, NOW);

describe('parseRetryAfter (RFC 9110: delta-seconds or HTTP-date)', () => {
  it('reads delta-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
    expect(parseRetryAfter(['5', '9'], NOW)).toBe(5);
  });

  it('reads an HTTP-date as seconds from now, rounded up, never negative', () => {
    expect(parseRetryAfter('Fri, 20 Nov 2026 12:01:30 GMT', NOW)).toBe(90);
    expect(parseRetryAfter(new Date(NOW + 1_500).toUTCString(), NOW + 600)).toBe(1);
    expect(parseRetryAfter('Fri, 20 Nov 2026 11:00:00 GMT', NOW)).toBe(0);
  });

  it('is undefined when absent or unreadable', () => {
    expect(parseRetryAfter(undefined, NOW)).toBeUndefined();
    expect(parseRetryAfter('', NOW)).toBeUndefined();
    expect(parseRetryAfter('soon', NOW)).toBeUndefined();
  });
});

describe('parseStartRetryText (the 15-minute /subscriptions/start rule, o365-api.md §1.3)', () => {
  it('reads minutes and seconds', () => {
    expect(parseStartRetryText('Too many frequent subscription start requests. Please retry again after 14m 56s')).toBe(896);
    expect(parseStartRetryText('Please retry again after 15m')).toBe(900);
    expect(parseStartRetryText('please RETRY AGAIN AFTER 42s')).toBe(42);
  });

  it('is undefined without a wait', () => {
    expect(parseStartRetryText('Please retry again after a while')).toBeUndefined();
    expect(parseStartRetryText('')).toBeUndefined();
  });
});

describe('classifyAnswer (o365-api.md §2.2–2.4)', () => {
  it.each([
    [401, af('AF10001', 'The permission set () sent in the request does not include the expected permission.'), API_ERRORS.permissionMissing, false],
    [401, 'The permission set () sent in the request does not include the expected permission.', API_ERRORS.permissionMissing, false],
    [401, '', API_ERRORS.unauthorized, true],
    [401, af('AF10001', 'Authorization failed: token expired'), API_ERRORS.unauthorized, true],
    [403, af('AF429', 'Too many requests. Method=GetBlob, PublisherId=00000000-0000-0000-0000-000000000000'), API_ERRORS.throttled, true],
    [429, af('AF429'), API_ERRORS.throttled, true],
    [429, '', API_ERRORS.throttled, true],
    [400, af('AF20022'), API_ERRORS.subscriptionMissing, true],
    [400, af('AF20023', 'The subscription was disabled.'), API_ERRORS.subscriptionDisabled, true],
    [400, af('AF20024', 'The subscription is already enabled. No property change.'), API_ERRORS.alreadySubscribed, false],
    [400, af('AF20030'), API_ERRORS.invalidWindow, true],
    [400, af('AF20055'), API_ERRORS.invalidWindow, true],
    [400, af('AF20051'), API_ERRORS.contentExpired, false],
    [404, af('AF20050'), API_ERRORS.contentNotFound, false],
    [404, '', API_ERRORS.contentNotFound, false],
    [500, af('AF50000', 'An internal error occurred.  Retry the request.'), API_ERRORS.serverError, true],
    [503, '<html>Service Unavailable</html>', API_ERRORS.serverError, true],
    [408, '', API_ERRORS.serverError, true],
    [400, af('AF20013'), API_ERRORS.badRequest, false],
  ])('HTTP %i %s → %s (retriable %s)', (status, body, code, retriable) => {
    const error = classify(status, body);
    expect(error.code).toBe(code);
    expect(error.retriable).toBe(retriable);
    expect(error.httpStatus).toBe(status);
    expect(error.stage).toBe('listing');
  });

  it('finds "Tenant <id> does not exist" in both observed split forms', () => {
    const tenant = '6b1c9a5e-0f2d-4c3b-9a8e-7d6f5e4c3b2a';
    const form2021 = JSON.stringify({
      error: {
        code: `StartSubscription [CorrId=1][TenantId=${tenant},ContentType=Audit.SharePoint,ApplicationId=2,PublisherId=3][AppId`,
        message: `] failed. Exception: Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${tenant} does not exist.\r\n   at Microsoft.Office...`,
      },
    });
    const form2019 = JSON.stringify({
      error: {
        code: `StartSubscription [TenantId=${tenant},ContentType=Audit.Exchange,ApplicationId=2,PublisherId=00000000-0000-0000-0000-000000000000] failed. Exception`,
        message: `Microsoft.Office.Compliance.Audit.DataServiceException: Tenant ${tenant} does not exist.\r\n at …`,
      },
    });
    for (const body of [form2021, form2019]) {
      const error = classify(400, body, 'subscription');
      expect(error.code).toBe(API_ERRORS.auditDisabled);
      expect(error.retriable).toBe(false);
      expect(error.message).toMatch(/audit log search/i);
    }
  });

  it('reads Retry-After on a throttling answer', () => {
    expect(classify(403, af('AF429'), 'download', { 'retry-after': '12' }).retryAfterSeconds).toBe(12);
    expect(classify(403, af('AF429'), 'download').retryAfterSeconds).toBeUndefined();
  });

  it('treats a subscription-stage 429 as the start rule, with the wait from the text or Retry-After', () => {
    const fromText = classify(429, JSON.stringify({ error: { message: 'Please retry again after 14m 56s' } }), 'subscription');
    expect(fromText.code).toBe(API_ERRORS.startThrottled);
    expect(fromText.retryAfterSeconds).toBe(896);
    expect(classify(429, 'Please retry again after 14m 56s', 'subscription', { 'retry-after': '60' }).retryAfterSeconds).toBe(60);
  });

  it('reads the AF code from a body that is not valid JSON', () => {
    expect(classify(400, '{"error":{"code":"AF20051","message":"Content … expired', 'download').code).toBe(API_ERRORS.contentExpired);
  });
});
