// The console's file server: a URL names a file inside its root or nothing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { safeRelativePath, StaticFiles } from '../../src/api/console/static-files.js';

void describe('safeRelativePath', () => {
  void it('keeps plain and percent-encoded names', () => {
    assert.equal(safeRelativePath('main.js'), 'main.js');
    assert.equal(safeRelativePath('pages/vols.js'), 'pages/vols.js');
    assert.equal(safeRelativePath('a%20b.css'), 'a b.css');
  });

  void it('refuses every segment that could leave the root or name a hidden file', () => {
    for (const bad of ['', '..', '../x.js', 'a/../../x.js', '%2e%2e/x.js', 'a%2F..%2F..%2Fx.js', 'a%5c..%5cx.js', '.env', 'a/.git/config', 'a//b.js', 'x%00.js', 'bad%zz.js', 'a/./b.js']) {
      assert.equal(safeRelativePath(bad), null, bad);
    }
  });
});

void describe('StaticFiles', () => {
  const base = mkdtempSync(path.join(tmpdir(), 'static-files-'));
  after(() => rmSync(base, { recursive: true, force: true }));
  const root = path.join(base, 'root');
  mkdirSync(path.join(root, 'sub'), { recursive: true });
  mkdirSync(path.join(root, 'hidden'), { recursive: true });
  writeFileSync(path.join(root, 'app.js'), 'export const a = 1;\n');
  writeFileSync(path.join(root, 'sub', 'style.css'), 'body {}\n');
  writeFileSync(path.join(root, 'hidden', 'x.js'), 'secret\n');
  writeFileSync(path.join(root, 'notes.txt'), 'text\n');
  writeFileSync(path.join(root, 'big.js'), 'x'.repeat(2048));
  writeFileSync(path.join(base, 'outside.js'), 'outside\n');
  symlinkSync(path.join(base, 'outside.js'), path.join(root, 'escape.js'));
  const files = new StaticFiles([{ urlPrefix: '/s/', dir: root, cacheControl: 'no-cache', allow: (p) => !p.startsWith('hidden/') }], { maxFileBytes: 1024 });

  void it('serves a file under its root with its content type, cache policy and a content hash as ETag', async () => {
    const js = await files.lookup('/s/app.js');
    assert.equal(js?.body.toString(), 'export const a = 1;\n');
    assert.equal(js?.contentType, 'text/javascript; charset=utf-8');
    assert.equal(js?.cacheControl, 'no-cache');
    assert.match(js?.etag ?? '', /^"[A-Za-z0-9_-]{27}"$/);
    assert.equal((await files.lookup('/s/sub/style.css'))?.contentType, 'text/css; charset=utf-8');
  });

  void it('serves a changed file anew (new ETag)', async () => {
    const before = await files.lookup('/s/sub/style.css');
    writeFileSync(path.join(root, 'sub', 'style.css'), 'body { color: red }\n');
    const changed = await files.lookup('/s/sub/style.css');
    assert.notEqual(changed?.etag, before?.etag);
    assert.equal(changed?.body.toString(), 'body { color: red }\n');
  });

  void it('finds nothing outside the root, through a symlink, outside the allowed paths, of an unlisted type, too large, or missing', async () => {
    for (const url of ['/s/../outside.js', '/s/%2e%2e/outside.js', '/s/escape.js', '/s/hidden/x.js', '/s/notes.txt', '/s/big.js', '/s/none.js', '/s/sub', '/other/app.js']) {
      assert.equal(await files.lookup(url), null, url);
    }
  });
});
