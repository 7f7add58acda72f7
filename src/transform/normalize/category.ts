import type { FileCategory } from '../../contracts/file-event.ts';

/**
 * File category by extension, with Code42's FileCategory values. Audit records carry no content type,
 * so the extension is all there is; unknown extensions are null, not a guess.
 */
const BY_EXTENSION: Readonly<Record<FileCategory, readonly string[]>> = {
  Archive: ['zip', '7z', 'rar', 'tar', 'gz', 'tgz', 'bz2', 'xz', 'cab', 'zst'],
  Audio: ['mp3', 'wav', 'm4a', 'aac', 'flac', 'ogg', 'wma', 'aiff'],
  Document: ['doc', 'docx', 'docm', 'dot', 'dotx', 'odt', 'rtf', 'txt', 'md', 'one', 'pages', 'vsdx', 'vsd', 'msg', 'eml', 'loop', 'fluid'],
  Executable: ['exe', 'msi', 'dll', 'com', 'scr', 'app', 'dmg', 'pkg', 'deb', 'rpm', 'apk', 'jar'],
  Image: ['png', 'jpg', 'jpeg', 'gif', 'bmp', 'tif', 'tiff', 'heic', 'heif', 'webp', 'svg', 'ico', 'raw'],
  Pdf: ['pdf'],
  Presentation: ['ppt', 'pptx', 'pptm', 'pps', 'ppsx', 'pot', 'potx', 'odp', 'key'],
  Script: ['ps1', 'psm1', 'bat', 'cmd', 'sh', 'bash', 'vbs', 'vba', 'js', 'mjs', 'py', 'rb', 'pl'],
  SourceCode: ['c', 'h', 'cpp', 'hpp', 'cs', 'java', 'ts', 'go', 'rs', 'swift', 'kt', 'sql', 'php', 'html', 'css', 'json', 'xml', 'yaml', 'yml'],
  Spreadsheet: ['xls', 'xlsx', 'xlsm', 'xlsb', 'xlt', 'xltx', 'csv', 'ods', 'numbers'],
  Video: ['mp4', 'mov', 'avi', 'mkv', 'wmv', 'webm', 'm4v', 'mpg', 'mpeg'],
  VirtualDiskImage: ['vhd', 'vhdx', 'vmdk', 'iso', 'img', 'qcow2', 'vdi'],
};

const CATEGORY = new Map<string, FileCategory>(
  Object.entries(BY_EXTENSION).flatMap(([category, extensions]) =>
    extensions.map((extension) => [extension, category as FileCategory] as const),
  ),
);

/** The extension of a file name (lower-case, no dot), or null when it has none. */
export function extensionOf(name: string): string | null {
  const dot = name.lastIndexOf('.');
  if (dot <= 0 || dot === name.length - 1) return null;
  return name.slice(dot + 1).toLowerCase();
}

export function categoryOf(name: string, recordExtension: string | null): FileCategory | null {
  const extension = extensionOf(name) ?? recordExtension?.replace(/^\./, '').toLowerCase() ?? null;
  return extension === null ? null : (CATEGORY.get(extension) ?? null);
}
