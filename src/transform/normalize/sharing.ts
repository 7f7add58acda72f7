import type { FileAction, ShareType } from '../../contracts/file-event.ts';
import { EMAIL } from './fields.ts';

/**
 * Sharing details "where obvious" (schema.md §4/§6): the kind of share added, and the people it
 * went to. Link groups (`SharingLinks.<item>.<Kind>.<id>`), SharePoint groups and opaque ids are not
 * recipients; only addresses are.
 */
const ANYONE: ShareType = 'Anyone with the link';
const ORGANIZATION: ShareType = 'Anyone in your organization';
const SPECIFIC: ShareType = 'Shared with specific people';

const BY_OPERATION: Readonly<Record<string, ShareType>> = {
  AnonymousLinkCreated: ANYONE,
  AnonymousLinkUpdated: ANYONE,
  CompanyLinkCreated: ORGANIZATION,
  SecureLinkCreated: SPECIFIC,
  AddedToSecureLink: SPECIFIC,
  SharingInvitationCreated: SPECIFIC,
};

const PERSON_TARGET_TYPES = new Set(['member', 'guest', 'partner']);

export interface SharingInputs {
  operation: string;
  action: FileAction;
  targetName: string | null;
  targetType: string | null;
  userSharedWith: string | null;
}

export function shareTypeOf(inputs: SharingInputs): ShareType[] {
  if (inputs.action !== 'file-shared') return [];
  const byOperation = BY_OPERATION[inputs.operation];
  if (byOperation !== undefined) return [byOperation];
  const link = /^SharingLinks\.[^.]+\.([A-Za-z]+)\./.exec(inputs.targetName ?? '');
  const kind = link?.[1]?.toLowerCase();
  if (kind !== undefined) {
    if (kind.startsWith('anonymous')) return [ANYONE];
    if (kind.startsWith('organization')) return [ORGANIZATION];
    if (kind.startsWith('flexible')) return [SPECIFIC];
    return [];
  }
  return recipientsOf(inputs).length > 0 ? [SPECIFIC] : [];
}

export function recipientsOf(inputs: SharingInputs): string[] {
  if (inputs.action !== 'file-shared' && inputs.action !== 'file-unshared') return [];
  const found = new Set<string>();
  const add = (value: string | null): void => {
    const address = value?.toLowerCase().replace(/^urn:spo:guest#/, '');
    if (address !== undefined && EMAIL.test(address)) found.add(address);
  };
  const type = inputs.targetType?.toLowerCase();
  if (type === undefined || PERSON_TARGET_TYPES.has(type)) add(inputs.targetName);
  add(inputs.userSharedWith);
  return [...found];
}
