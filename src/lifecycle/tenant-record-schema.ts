import { z } from 'zod';
import { CLOUD_NAMES } from '../config/clouds.ts';
import { DESIRED_STATES } from '../contracts/tenant-registry.ts';
import { CONNECTION_STATES } from './state-machine.ts';

/** Loose on reasons (plain strings), so a newer writer's reason does not make a record unreadable. */
const connectionStatusSchema = z.object({
  state: z.enum(CONNECTION_STATES),
  reason: z.string(),
  remedy: z.string(),
  code: z.string().optional(),
  since: z.string(),
  consentedAt: z.string().optional(),
  firstContentAt: z.string().optional(),
});

/**
 * The shape of a TenantRecord (contracts/tenant-registry.ts), in one place: the registry topic reads
 * its records with it (kafka/registry-record.ts), and the admin API's tenant view is this without
 * the fields only the connector reads (admin/schemas.ts).
 */
export const tenantRecordSchema = z.object({
  id: z.string().min(1),
  displayName: z.string(),
  cloud: z.enum(CLOUD_NAMES),
  plan: z.string(),
  requestsPerMinute: z.number().int().positive().optional(),
  desiredState: z.enum(DESIRED_STATES),
  origin: z.enum(['config', 'api', 'legacy-import']),
  createdAt: z.string(),
  updatedAt: z.string(),
  deauthorizedAt: z.string().optional(),
  parkedCursor: z.object({ lowerBound: z.string(), done: z.record(z.string(), z.string()), updatedAt: z.string() }).loose().optional(),
  legacy: z.object({ lastCollectedTime: z.string(), lastContentIds: z.array(z.string()), importedAt: z.string() }).optional(),
  maintenance: z.object({ from: z.string(), to: z.string() }).optional(),
  status: connectionStatusSchema,
  history: z.array(z.object({ at: z.string(), from: z.enum(CONNECTION_STATES), to: z.enum(CONNECTION_STATES), reason: z.string() })),
  revision: z.number().int().min(0),
});
