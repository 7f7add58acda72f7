/**
 * Where the file is: name and server-relative directory, from ObjectId first (schema.md §7), falling
 * back to SiteUrl + SourceRelativeUrl + SourceFileName when ObjectId does not end in the file's name
 * (anonymised samples carry `https://example.com/`). Sharing records put the file name inside
 * SourceRelativeUrl; that is tolerated. Everything is decoded segment by segment, so a literal `%`
 * or `#` in a file name survives.
 */

export interface SplitUrl {
  /** Lower-case host without port or trailing dot; '' when the value has none. */
  host: string;
  /** Decoded, non-empty path segments. */
  readonly segments: readonly string[];
}

const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Splits a URL-ish string without the WHATWG parser: real ObjectIds contain raw spaces, `#` and `%`
 * in file names, which a URL parser would treat as fragments or reject. A value without a scheme
 * (`partner.acme.com/shared documents/…`) is read as host + path; one starting with `/` as a path.
 */
export function splitUrl(value: string): SplitUrl {
  // Each record's ObjectId is split twice (its file location, then its drive): the same string
  // object, so an identity check answers the second call without hashing a long unique string.
  if (value === last.value) return last.split;
  last = { value, split: splitUncached(value) };
  return last.split;
}

let last: { value: string | undefined; split: SplitUrl } = { value: undefined, split: { host: '', segments: [] } };

/**
 * splitUrl for values that repeat across records (SiteUrl: one per site, many records each), cached.
 * The profile showed URL splitting as the normalizer's largest cost. Results are immutable; the cache
 * is small and simply emptied when full.
 */
export function splitRepeatedUrl(value: string): SplitUrl {
  const cached = SPLIT_CACHE.get(value);
  if (cached !== undefined) return cached;
  const split = splitUncached(value);
  if (SPLIT_CACHE.size >= SPLIT_CACHE_ENTRIES) SPLIT_CACHE.clear();
  SPLIT_CACHE.set(value, split);
  return split;
}

const SPLIT_CACHE = new Map<string, SplitUrl>();
const SPLIT_CACHE_ENTRIES = 4096;

function splitUncached(value: string): SplitUrl {
  let rest = value.trim();
  let host = '';
  if (SCHEME.test(rest) || !rest.startsWith('/')) {
    rest = rest.replace(SCHEME, '');
    const slash = rest.indexOf('/');
    const authority = slash < 0 ? rest : rest.slice(0, slash);
    rest = slash < 0 ? '' : rest.slice(slash);
    host = hostOf(authority);
  }
  // Not through splitPath's cache: a URL's path is as unique as the URL, already cached above.
  return { host, segments: segmentsOf(rest) };
}

function hostOf(authority: string): string {
  let host = HOST_CACHE.get(authority);
  if (host === undefined) {
    host = authority.replace(/^.*@/, '').replace(/:\d*$/, '').replace(/\.$/, '').toLowerCase();
    if (HOST_CACHE.size >= SPLIT_CACHE_ENTRIES) HOST_CACHE.clear();
    HOST_CACHE.set(authority, host);
  }
  return host;
}

const HOST_CACHE = new Map<string, string>();

/** Decoded, non-empty segments; cached like splitUrl (folders and file names repeat across records). */
export function splitPath(path: string): readonly string[] {
  if (!path.includes('/')) return path === '' ? [] : [decodeSegment(path)];
  const cached = PATH_CACHE.get(path);
  if (cached !== undefined) return cached;
  const segments = segmentsOf(path);
  if (PATH_CACHE.size >= SPLIT_CACHE_ENTRIES) PATH_CACHE.clear();
  PATH_CACHE.set(path, segments);
  return segments;
}

function segmentsOf(path: string): string[] {
  const segments: string[] = [];
  for (const segment of path.split('/')) if (segment !== '') segments.push(decodeSegment(segment));
  return segments;
}

const PATH_CACHE = new Map<string, readonly string[]>();

function decodeSegment(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment; // a literal '%' in a name
  }
}

export function directoryOf(segments: readonly string[]): string {
  return segments.length === 0 ? '/' : `/${segments.join('/')}/`;
}

export interface FileLocation {
  name: string;
  directory: string;
}

export interface LocationInputs {
  objectId: string;
  siteUrl: string | null;
  relativeUrl: string | null;
  fileName: string | null;
}

/**
 * The file's name and directory, or null when neither ObjectId nor the Source* fields name a file.
 * ObjectId wins when it is consistent with the Source* fields it is documented to be built from
 * (its last segment is SourceFileName, its folder ends with SourceRelativeUrl); otherwise — or when
 * it names no file at all — SiteUrl + SourceRelativeUrl + SourceFileName is used.
 */
export function locateFile(inputs: LocationInputs): FileLocation | null {
  const fromObject = splitUrl(inputs.objectId).segments;
  const last = fromObject.at(-1);
  const expected = inputs.fileName === null ? null : (splitPath(inputs.fileName).at(-1) ?? null);
  const fromSite =
    expected === null ? null : { name: expected, directory: directoryFromSite(inputs.siteUrl, inputs.relativeUrl, expected) };
  if (last === undefined || (expected !== null && !sameName(last, expected))) return fromSite;
  const fromObjectId = { name: last, directory: directoryOf(fromObject.slice(0, -1)) };
  if (fromSite === null || inputs.siteUrl === null) return fromObjectId;
  const folder = relativeFolder(inputs.relativeUrl, last);
  const consistent = fromObjectId.directory.endsWith(folder) || fromObjectId.directory.toLowerCase().endsWith(folder.toLowerCase());
  return consistent ? fromObjectId : fromSite;
}

/** SourceRelativeUrl as a folder path ending in `/` (without the file name sharing records append). */
function relativeFolder(relativeUrl: string | null, fileName: string): string {
  return directoryOf(relativeSegments(relativeUrl, fileName));
}

function relativeSegments(relativeUrl: string | null, fileName: string): readonly string[] {
  const relative = relativeUrl === null ? [] : splitPath(relativeUrl);
  const lastRelative = relative.at(-1);
  return lastRelative !== undefined && sameName(lastRelative, fileName) ? relative.slice(0, -1) : relative;
}

/**
 * SiteUrl + a site-relative folder. The relative part may already end with the file name (sharing
 * records) and may or may not start with `/` — both are handled. SiteUrl's trailing slash varies.
 */
export function directoryFromSite(siteUrl: string | null, relativeUrl: string | null, fileName: string | null): string {
  const site = siteUrl === null ? [] : splitRepeatedUrl(siteUrl).segments;
  const segments = relativeSegments(relativeUrl, fileName ?? '');
  // The folder is read as a path once more, as it always was: that only changes segments whose
  // decoded text holds a '/' or a '%', so the segments are used as they are unless one does.
  const relative = segments.some((segment) => segment.includes('/') || segment.includes('%')) ? splitPath(directoryOf(segments)) : segments;
  // Some records give a server-relative folder that already starts with the site path.
  const overlaps = site.length > 0 && site.every((segment, i) => sameName(segment, relative[i] ?? ''));
  return directoryOf(overlaps ? relative : [...site, ...relative]);
}

/** Case-insensitive; most pairs are equal as they are, which needs no lower-cased copies. */
function sameName(a: string, b: string): boolean {
  return a === b || a.toLowerCase() === b.toLowerCase();
}

export interface Destination {
  name: string;
  directory: string;
  originalName: string | null;
  originalDirectory: string | null;
}

/**
 * Rename, move and copy: the destination becomes `file.*`, the source `file.original*`. The API
 * documents Destination* for FileCopied/FileMoved only; when they are missing the source location is
 * all we know, so it stays `file.*` and `original*` is null (unknown, not "unchanged").
 */
export function applyDestination(
  source: FileLocation,
  siteUrl: string | null,
  destinationRelativeUrl: string | null,
  destinationFileName: string | null,
): Destination {
  if (destinationRelativeUrl === null && destinationFileName === null) {
    return { ...source, originalName: null, originalDirectory: null };
  }
  const name = destinationFileName === null ? source.name : (splitPath(destinationFileName).at(-1) ?? source.name);
  const directory =
    destinationRelativeUrl === null ? source.directory : directoryFromSite(siteUrl, destinationRelativeUrl, name);
  return { name, directory, originalName: source.name, originalDirectory: source.directory };
}
