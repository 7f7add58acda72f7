/**
 * Microsoft clouds by name: where tokens come from and where the Management Activity API lives.
 * Facts: ../shared/reference/o365-api.md §1.1 (GCC High / DoD authorities come from client code, not
 * from the API docs).
 */
export const CLOUD_NAMES = ['commercial', 'gcc', 'gcc-high', 'dod'] as const;
export type CloudName = (typeof CLOUD_NAMES)[number];

export interface CloudEndpoints {
  /** Token authority host, e.g. https://login.microsoftonline.com (tenant id appended per tenant). */
  loginBaseUrl: string;
  /** API host; also the token resource (`<apiBaseUrl>/.default`). */
  apiBaseUrl: string;
}

export const CLOUDS: Record<CloudName, CloudEndpoints> = {
  commercial: { loginBaseUrl: 'https://login.microsoftonline.com', apiBaseUrl: 'https://manage.office.com' },
  gcc: { loginBaseUrl: 'https://login.microsoftonline.com', apiBaseUrl: 'https://manage-gcc.office.com' },
  'gcc-high': { loginBaseUrl: 'https://login.microsoftonline.us', apiBaseUrl: 'https://manage.office365.us' },
  dod: { loginBaseUrl: 'https://login.microsoftonline.us', apiBaseUrl: 'https://manage.protection.apps.mil' },
};
