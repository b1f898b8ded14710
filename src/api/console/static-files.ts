// Files served under URL prefixes from a few fixed directories (the console's own assets and the
// npm packages it runs in the browser). A URL can only name a file inside its root: every path
// segment is decoded on its own and refused when it is empty, `.`/`..`, a dotfile, or holds a
// slash, backslash or NUL; the resolved path (after symlinks) must still lie inside the root's
// real path; only listed extensions are served, each with its content type. Contents are cached
// by path, size and mtime, bounded in count and in file size.

import { createHash } from 'node:crypto';
import { realpath, readFile, stat } from 'node:fs/promises';
import path from 'node:path';

export interface StaticRoot {
  /** Starts and ends with '/', e.g. '/console/app/'. */
  readonly urlPrefix: string;
  readonly dir: string;
  /** Which paths under `dir` may be served ('/'-separated, relative); default all. */
  readonly allow?: (relativePath: string) => boolean;
  readonly cacheControl: string;
}

export interface StaticFile {
  readonly body: Buffer;
  readonly contentType: string;
  /** Strong validator: a hash of the body. */
  readonly etag: string;
  readonly cacheControl: string;
}

export interface StaticFilesOptions {
  /** Default 4 MiB: larger files are refused (404), never read. */
  readonly maxFileBytes?: number;
  /** Default 256 entries; the oldest is dropped first. */
  readonly maxCachedFiles?: number;
}

export const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.map': 'application/json; charset=utf-8',
};

const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;
const DEFAULT_MAX_CACHED_FILES = 256;

interface CacheEntry {
  readonly size: number;
  readonly mtimeMs: number;
  readonly file: StaticFile;
}

/**
 * `rest` (the URL path after a root's prefix, still percent-encoded) as a relative file path, or
 * null when any segment could step outside the root or name a hidden file.
 */
export function safeRelativePath(rest: string): string | null {
  if (rest === '') return null;
  const segments: string[] = [];
  for (const raw of rest.split('/')) {
    let segment: string;
    try {
      segment = decodeURIComponent(raw);
    } catch {
      return null;
    }
    if (segment === '' || segment.startsWith('.') || /[/\\\0]/.test(segment)) return null;
    segments.push(segment);
  }
  return segments.join('/');
}

export class StaticFiles {
  private readonly maxFileBytes: number;
  private readonly maxCachedFiles: number;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly realRoots = new Map<string, Promise<string | null>>();

  constructor(
    private readonly roots: readonly StaticRoot[],
    options: StaticFilesOptions = {},
  ) {
    this.maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
    this.maxCachedFiles = options.maxCachedFiles ?? DEFAULT_MAX_CACHED_FILES;
  }

  /** The file a URL path (no query) names, or null: not under a root, refused, or absent. */
  async lookup(urlPath: string): Promise<StaticFile | null> {
    const root = this.roots.find((r) => urlPath.startsWith(r.urlPrefix));
    if (root === undefined) return null;
    const relative = safeRelativePath(urlPath.slice(root.urlPrefix.length));
    if (relative === null || (root.allow !== undefined && !root.allow(relative))) return null;
    const contentType = CONTENT_TYPES[path.extname(relative).toLowerCase()];
    if (contentType === undefined) return null;
    const realRoot = await this.realRoot(root.dir);
    if (realRoot === null) return null;
    let real: string;
    try {
      real = await realpath(path.join(root.dir, ...relative.split('/')));
    } catch {
      return null;
    }
    if (!real.startsWith(realRoot + path.sep)) return null;
    return this.read(real, root, contentType);
  }

  private realRoot(dir: string): Promise<string | null> {
    let found = this.realRoots.get(dir);
    if (found === undefined) {
      found = realpath(dir).catch(() => null);
      this.realRoots.set(dir, found);
    }
    return found;
  }

  private async read(file: string, root: StaticRoot, contentType: string): Promise<StaticFile | null> {
    let info;
    try {
      info = await stat(file);
    } catch {
      return null;
    }
    if (!info.isFile() || info.size > this.maxFileBytes) return null;
    const cached = this.cache.get(file);
    if (cached !== undefined && cached.size === info.size && cached.mtimeMs === info.mtimeMs) return cached.file;
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch {
      return null;
    }
    if (body.length > this.maxFileBytes) return null;
    const staticFile = { body, contentType, etag: etagOf(body), cacheControl: root.cacheControl };
    this.cache.delete(file);
    this.cache.set(file, { size: info.size, mtimeMs: info.mtimeMs, file: staticFile });
    while (this.cache.size > this.maxCachedFiles) this.cache.delete(this.cache.keys().next().value!);
    return staticFile;
  }
}

export function etagOf(body: Buffer | string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}
