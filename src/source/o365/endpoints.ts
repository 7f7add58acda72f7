import { CLOUDS } from '../../config/clouds.ts';
import type { ConnectorConfig, TenantConfig } from '../../config/schema.ts';

/** Where one tenant's tokens and API calls go. */
export interface TenantEndpoints {
  tenantId: string;
  /** Token authority, e.g. https://login.microsoftonline.com/<tenant>. */
  authority: string;
  /** Token scope: the API resource + /.default. */
  scope: string;
  /** https://<host>[:port]; the only origin that ever receives the bearer token. */
  apiOrigin: string;
  /** https://<host>/api/v1.0/<tenant>/activity/feed */
  feedBaseUrl: string;
}

export function tenantEndpoints(config: Pick<ConnectorConfig, 'endpoints'>, tenant: TenantConfig): TenantEndpoints {
  const cloud = CLOUDS[tenant.cloud];
  const loginBaseUrl = config.endpoints.loginBaseUrl ?? cloud.loginBaseUrl;
  const apiBaseUrl = config.endpoints.apiBaseUrl ?? cloud.apiBaseUrl;
  const apiOrigin = new URL(apiBaseUrl).origin;
  return {
    tenantId: tenant.id,
    authority: `${loginBaseUrl}/${tenant.id}`,
    scope: `${apiBaseUrl}/.default`,
    apiOrigin,
    feedBaseUrl: `${apiOrigin}/api/v1.0/${tenant.id}/activity/feed`,
  };
}
