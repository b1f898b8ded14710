// Where the console's files come from, and the page that loads them. Everything is on this
// machine, nothing from a CDN: the page and its style sheet from the repo (console/static), the
// browser code compiled by `npm run build` (console/src/*.tsx -> dist/browser/console/src), and
// three npm packages straight from node_modules: preact (rendering; tsc compiles the JSX for
// its jsx-runtime, so there is no bundler), uPlot (the chart) and
// @noble/hashes (HMAC-SHA256 for signing actions: WebCrypto's crypto.subtle exists only in
// secure contexts, and operators often reach a master over plain http).
//
// Vendor URLs carry the package version (`/console/vendor/preact@10.29.8/...`), so browsers may
// keep them for a year; the page and the app code are revalidated on every load (ETag). The page
// names the packages' entry points in an import map, inlined in the page and allowed by its
// Content-Security-Policy through the map's hash; no other inline script runs.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StaticRoot } from './static-files.js';
import { etagOf } from './static-files.js';

/** The repository (or installed package) root, from dist/src/api/console/. */
const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export const CONSOLE_PATH = '/console';
export const APP_PREFIX = '/console/app/';
export const STATIC_PREFIX = '/console/static/';
export const VENDOR_PREFIX = '/console/vendor/';

const REVALIDATE = 'no-cache';
const IMMUTABLE = 'public, max-age=31536000, immutable';

interface VendorPackage {
  readonly name: string;
  /** Subfolders of the package that may be served. */
  readonly serve: readonly string[];
  /** Import map entries: bare specifier -> path inside the package. */
  readonly imports: Readonly<Record<string, string>>;
}

const VENDOR_PACKAGES: readonly VendorPackage[] = [
  {
    name: 'preact',
    serve: ['dist/', 'hooks/dist/', 'jsx-runtime/dist/'],
    imports: {
      preact: 'dist/preact.module.js',
      'preact/hooks': 'hooks/dist/hooks.module.js',
      'preact/jsx-runtime': 'jsx-runtime/dist/jsxRuntime.module.js',
    },
  },
  { name: 'uplot', serve: ['dist/'], imports: { uplot: 'dist/uPlot.esm.js' } },
  {
    name: '@noble/hashes',
    serve: ['esm/'],
    imports: {
      '@noble/hashes/hmac': 'esm/hmac.js',
      '@noble/hashes/sha2': 'esm/sha2.js',
      '@noble/hashes/utils': 'esm/utils.js',
      '@noble/hashes/crypto': 'esm/crypto.js',
    },
  },
];

export interface ConsolePage {
  readonly body: Buffer;
  readonly etag: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface ConsoleAssets {
  readonly roots: readonly StaticRoot[];
  /** null when the page or the compiled app is missing (the reason in `missing`). */
  readonly page: ConsolePage | null;
  readonly missing: string;
}

/** The folder of an installed package, found from its entry point (its exports may hide package.json). */
function packageDir(name: string): { dir: string; version: string } {
  const require = createRequire(import.meta.url);
  let dir = path.dirname(require.resolve(name));
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === name && typeof pkg.version === 'string') return { dir, version: pkg.version };
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`package ${name}: no package.json above its entry point`);
    dir = up;
  }
}

/** Security headers of the page: only our own scripts (and the import map), no framing, no referrer. */
function pageHeaders(importMapJson: string): Record<string, string> {
  const mapHash = createHash('sha256').update(importMapJson).digest('base64');
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': REVALIDATE,
    'content-security-policy': [
      "default-src 'none'",
      `script-src 'self' 'sha256-${mapHash}'`,
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; '),
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  };
}

export function loadConsoleAssets(packageRoot: string = PACKAGE_ROOT): ConsoleAssets {
  const staticDir = path.join(packageRoot, 'console', 'static');
  const appDir = path.join(packageRoot, 'dist', 'browser', 'console', 'src');
  const roots: StaticRoot[] = [
    { urlPrefix: APP_PREFIX, dir: appDir, cacheControl: REVALIDATE, allow: (p) => p.endsWith('.js') },
    { urlPrefix: STATIC_PREFIX, dir: staticDir, cacheControl: REVALIDATE, allow: (p) => !p.endsWith('.html') },
  ];
  const imports: Record<string, string> = {};
  const vendorUrls = new Map<string, string>();
  for (const pkg of VENDOR_PACKAGES) {
    const { dir, version } = packageDir(pkg.name);
    const prefix = `${VENDOR_PREFIX}${pkg.name}@${version}/`;
    vendorUrls.set(pkg.name, prefix);
    roots.push({ urlPrefix: prefix, dir, cacheControl: IMMUTABLE, allow: (p) => pkg.serve.some((s) => p.startsWith(s)) });
    for (const [specifier, file] of Object.entries(pkg.imports)) imports[specifier] = prefix + file;
  }
  const templatePath = path.join(staticDir, 'index.html');
  const missing = [templatePath, path.join(appDir, 'main.js')].filter((f) => !existsSync(f));
  if (missing.length > 0) return { roots, page: null, missing: `missing ${missing.join(', ')} (run npm run build)` };
  const importMapJson = JSON.stringify({ imports }, null, 2);
  const html = readFileSync(templatePath, 'utf8')
    .replace('<!--importmap-->', () => `<script type="importmap">${importMapJson}</script>`)
    .replace('%UPLOT_CSS%', () => `${vendorUrls.get('uplot')}dist/uPlot.min.css`);
  const body = Buffer.from(html, 'utf8');
  return { roots, page: { body, etag: etagOf(body), headers: pageHeaders(importMapJson) }, missing: '' };
}
