import { z } from 'zod';
import { addTenantBody, consentResult, consentUrlView, importResult, legacyImportBody, maintenanceBody, problemView, tenantList, tenantView } from './schemas.ts';

/** JSON Schema 2020-12 (OpenAPI 3.1's dialect) from the same zod schemas the server validates with. */
function schema(type: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(type, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  return rest;
}

const json = (ref: string) => ({ 'application/json': { schema: { $ref: `#/components/schemas/${ref}` } } });
const problem = (description: string) => ({ description, content: json('Problem') });
const tenantId = { name: 'tenantId', in: 'path', required: true, schema: { type: 'string', minLength: 1 }, description: 'The tenant GUID.' };
const secured = { security: [{ bearer: [] }] };
const common = { '401': problem('Missing or wrong bearer token.') };

function tenantAction(summary: string, operationId: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    post: {
      summary,
      operationId,
      ...secured,
      parameters: [tenantId],
      ...extra,
      responses: { '200': { description: 'The tenant after the change.', content: json('Tenant') }, ...common, '404': problem('No such tenant.'), '409': problem('Not allowed in the current state.'), ...('requestBody' in extra ? { '400': problem('The body is invalid; every problem is listed.') } : {}) },
    },
  };
}

/** The admin API's OpenAPI 3.1 document, served at /openapi.json. */
export function openApiDocument(serverUrl: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'onedrive-connector admin API',
      version: '1.0.0',
      description: 'Tenant connections: add, list, show with status history, pause, resume, deauthorize, admin consent, legacy import, maintenance. See docs/lifecycle.md.',
    },
    servers: [{ url: serverUrl }],
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        AddTenant: schema(addTenantBody, 'input'),
        LegacyImport: schema(legacyImportBody, 'input'),
        Maintenance: schema(maintenanceBody, 'input'),
        Tenant: schema(tenantView, 'output'),
        TenantList: schema(tenantList, 'output'),
        ImportResult: schema(importResult, 'output'),
        ConsentUrl: schema(consentUrlView, 'output'),
        ConsentResult: schema(consentResult, 'output'),
        Problem: schema(problemView, 'output'),
      },
    },
    paths: {
      '/tenants': {
        get: { summary: 'List tenants', operationId: 'listTenants', ...secured, responses: { '200': { description: 'Every tenant in the registry.', content: json('TenantList') }, ...common } },
        post: {
          summary: 'Add a tenant (PendingConsent until admin consent is granted)',
          operationId: 'addTenant',
          ...secured,
          requestBody: { required: true, content: json('AddTenant') },
          responses: { '201': { description: 'Added.', content: json('Tenant') }, '400': problem('The body is invalid; every problem is listed.'), ...common, '409': problem('Already registered.') },
        },
      },
      '/tenants/import': {
        post: {
          summary: 'Import a connection from the legacy connector (a second import is a no-op)',
          operationId: 'importLegacy',
          ...secured,
          requestBody: { required: true, content: json('LegacyImport') },
          responses: {
            '201': { description: 'Imported.', content: json('ImportResult') },
            '200': { description: 'Already imported; nothing changed.', content: json('ImportResult') },
            '400': problem('The body is invalid; every problem is listed.'),
            ...common,
            '409': problem('This connector already collects the tenant.'),
          },
        },
      },
      '/tenants/{tenantId}': {
        get: { summary: 'Show a tenant with its status history', operationId: 'showTenant', ...secured, parameters: [tenantId], responses: { '200': { description: 'The tenant.', content: json('Tenant') }, ...common, '404': problem('No such tenant.') } },
      },
      '/tenants/{tenantId}/pause': tenantAction('Pause collection', 'pauseTenant'),
      '/tenants/{tenantId}/resume': tenantAction('Resume collection (a deauthorized tenant within 90 days, from its cursor)', 'resumeTenant'),
      '/tenants/{tenantId}/deauthorize': tenantAction('Deauthorize, whatever the status', 'deauthorizeTenant'),
      '/tenants/{tenantId}/maintenance': tenantAction('Schedule a maintenance (upgrade) window', 'scheduleMaintenance', { requestBody: { required: true, content: json('Maintenance') } }),
      '/tenants/{tenantId}/consent-url': {
        get: {
          summary: 'The admin-consent URL to send to a global admin of the tenant',
          operationId: 'consentUrl',
          ...secured,
          parameters: [tenantId],
          responses: { '200': { description: 'A URL with a signed state that expires.', content: json('ConsentUrl') }, ...common, '404': problem('No such tenant.'), '409': problem('The tenant is paused or deauthorized.') },
        },
      },
      '/consent/callback': {
        get: {
          summary: "Entra ID's redirect after admin consent (no bearer token: the signed state authenticates it)",
          operationId: 'consentCallback',
          parameters: ['admin_consent', 'tenant', 'state', 'error', 'error_description', 'scope'].map((name) => ({ name, in: 'query', required: false, schema: { type: 'string' } })),
          responses: { '200': { description: 'Consent recorded (granted or denied).', content: json('ConsentResult') }, '400': problem('Missing, invalid or expired state, or a malformed callback.'), '404': problem('The state names a tenant no longer registered.') },
        },
      },
    },
  };
}
