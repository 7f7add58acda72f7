import type { SimContext } from '../context.ts';
import type { Tenant, Webhook } from '../tenants.ts';
import { AF, type ApiError } from './errors.ts';

/** Content types as REF spells them (o365-api.md §1.2); matched case-insensitively (#479 sent "Audit.Sharepoint"). */
export const CONTENT_TYPES = ['Audit.AzureActiveDirectory', 'Audit.Exchange', 'Audit.SharePoint', 'Audit.General', 'DLP.All'] as const;

export function canonicalContentType(value: string | undefined): string | ApiError {
  if (value === undefined || value === '') return AF.missingParameter('contentType');
  return CONTENT_TYPES.find((ct) => ct.toLowerCase() === value.toLowerCase()) ?? AF.invalidContentType();
}

export type Answer = ApiError | { status: number; body: unknown };

/**
 * POST subscriptions/start (o365-api.md §1.3): the 15-minute rule first (HTTP 429 with the observed
 * text, measured from the last start that got past it), then AF20024 when already enabled with no
 * change, else enable (re-enabling a disabled or stopped subscription; a stop leaves a gap, §1.5).
 */
export function startSubscription(ctx: SimContext, tenant: Tenant, contentType: string, rawBody: string): Answer {
  const now = ctx.clock.now();
  let webhook: Webhook | null | undefined;
  if (rawBody.trim() !== '') {
    try {
      const parsed = JSON.parse(rawBody) as { webhook?: { address?: string; authId?: string; expiration?: string } | null };
      if (parsed.webhook) {
        const address = parsed.webhook.address ?? '';
        if (!address.startsWith('https://')) return AF.webhookNotHttps(address);
        webhook = { status: 'enabled', address, authId: parsed.webhook.authId ?? null, expiration: parsed.webhook.expiration || null };
      } else if (parsed.webhook === null) {
        webhook = null;
      }
    } catch {
      return AF.invalidParameterType('Invalid parameter type: body. Expected type: json.');
    }
  }
  const last = tenant.lastStartAt.get(contentType);
  if (last !== undefined && now - last < ctx.settings.startCooldownMs) return AF.startTooSoon(last + ctx.settings.startCooldownMs - now);
  tenant.lastStartAt.set(contentType, now);

  const current = tenant.subscriptions.get(contentType);
  const webhookUnchanged = webhook === undefined || JSON.stringify(webhook) === JSON.stringify(current?.webhook ?? null);
  if (current?.status === 'enabled' && webhookUnchanged) return AF.alreadyEnabled();

  const stoppedAt = tenant.stoppedSince.get(contentType);
  if (stoppedAt !== undefined) {
    const gaps = tenant.stoppedGaps.get(contentType) ?? [];
    gaps.push([stoppedAt, now]);
    tenant.stoppedGaps.set(contentType, gaps);
    tenant.stoppedSince.delete(contentType);
  }
  if (!tenant.firstStartedAt.has(contentType) && current === undefined) tenant.firstStartedAt.set(contentType, now);
  const next = { status: 'enabled' as const, webhook: webhook === undefined ? (current?.webhook ?? null) : webhook };
  tenant.subscriptions.set(contentType, next);
  return { status: 200, body: { contentType, status: next.status, webhook: next.webhook } };
}

/** POST subscriptions/stop (§1.5): 200 with an empty body; content made available until restart is never listed. */
export function stopSubscription(ctx: SimContext, tenant: Tenant, contentType: string): Answer {
  if (!tenant.subscriptions.has(contentType)) return AF.noSubscription();
  tenant.subscriptions.delete(contentType);
  tenant.stoppedSince.set(contentType, ctx.clock.now());
  return { status: 200, body: undefined };
}

/** GET subscriptions/list (§1.6). */
export function listSubscriptions(tenant: Tenant): Answer {
  return { status: 200, body: [...tenant.subscriptions].map(([contentType, s]) => ({ contentType, status: s.status, webhook: s.webhook })) };
}

/** Listing and blob download require an enabled subscription: AF20022 none, AF20023 disabled (§2.2). */
export function requireEnabled(tenant: Tenant, contentType: string): ApiError | undefined {
  const sub = tenant.subscriptions.get(contentType);
  if (!sub) return AF.noSubscription();
  if (sub.status === 'disabled') return AF.subscriptionDisabled();
  return undefined;
}
