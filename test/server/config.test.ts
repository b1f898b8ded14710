// The config schema: every bad value is refused naming the key, the value, where it came from and
// what is allowed; unknown keys are warnings; flags override the file; docs/config.md is what the
// schema generates.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DEFAULT_API_LIMITS } from '../../src/api/limits.js';
import { renderConfigDoc } from '../../src/server/config-doc.js';
import { CONFIG_KEYS, configKeys, fieldOf } from '../../src/server/config-schema.js';
import { ConfigError, parseConfig, readConfig } from '../../src/server/config.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function withFile(content: unknown, run: (file: string) => void): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'config-'));
  try {
    const file = path.join(dir, 'master.json');
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    run(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function refusal(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 3, 'CubeFS InvalidCfg');
    return error;
  }
  assert.fail('expected the config to be refused');
}

void describe('config validation', () => {
  void it('takes the defaults of every key with an empty config (one master on 127.0.0.1:17010)', () => {
    const config = parseConfig({}, '/base');
    for (const key of configKeys()) {
      const spec = CONFIG_KEYS[key];
      const value = (config as unknown as Record<string, unknown>)[fieldOf(key)];
      if (spec.kind === 'dir') assert.equal(value, path.resolve('/base', spec.default), key);
      else if (spec.kind === 'apiLimits') assert.deepEqual(value, DEFAULT_API_LIMITS, key);
      else if (spec.kind !== 'peers') assert.equal(value, spec.default ?? undefined, key);
    }
    assert.deepEqual(config.peers, [{ id: 1, host: '127.0.0.1', httpPort: 17010, raftPort: 5902 }]);
  });

  void it('refuses a bad value naming the key, the value, the source and what is allowed, for each kind', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ listen: 70000 }, /key "listen" = 70000 is not allowed: must be an integer in \[1, 65535\]/],
      [{ tickInterval: 'fast' }, /key "tickInterval" = "fast" is not allowed: must be an integer in \[10, 10000\]/],
      [{ bindIp: 'yes' }, /key "bindIp" = "yes" is not allowed: must be true or false/],
      [{ logLevel: 'loud' }, /key "logLevel" = "loud" is not allowed: must be "fatal", "error", "warn", "info", "debug", "trace", "silent"/],
      [{ role: 'metanode' }, /key "role" = "metanode" is not allowed: must be "master"/],
      [{ retainLogs: 5 }, /key "retainLogs" = 5 is not allowed: must be an integer >= 100/],
      [{ replicaPort: 99999 }, /key "replicaPort" = 99999 is not allowed: must be a port/],
      [{ clusterName: {} }, /key "clusterName" = \{\} is not allowed: must be a non-empty string/],
      [{ id: 2, peers: '1:a:1' }, /key "peers" = "1:a:1" does not list this master's id 2/],
      [{ peers: '1:a' }, /key "peers" = "1:a": peer "1:a" is not id:ip:port/],
    ];
    for (const [raw, message] of cases) assert.match(refusal(() => parseConfig(raw, '/')).message, message);
  });

  void it('says whether a bad value came from a flag or from the file', () => {
    withFile({ role: 'master', listen: '17010' }, (file) => {
      assert.match(refusal(() => readConfig(file, { listen: 'x' })).message, /key "listen" \(from --listen\) = "x"/);
    });
    withFile({ listen: 'x' }, (file) => {
      assert.match(refusal(() => readConfig(file, {})).message, new RegExp(`key "listen" \\(in ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\) = "x"`));
    });
  });

  void it('lets flags override the file and reports where each value came from', () => {
    withFile({ id: '2', peers: '1:h1:17010,2:h2:17010', walDir: 'w', listen: 17020 }, (file) => {
      const loaded = readConfig(file, { listen: '17030', walDir: undefined });
      assert.equal(loaded.config.listen, 17030);
      assert.equal(loaded.config.walDir, path.join(path.dirname(file), 'w'), 'relative to the config file');
      assert.equal(loaded.sources.get('listen'), 'flag');
      assert.equal(loaded.sources.get('walDir'), 'file');
      assert.equal(loaded.sources.get('storeDir'), 'default');
    });
  });

  void it('warns once per unknown key, naming CubeFS keys it ignores and suggesting a near key', () => {
    withFile({ listen: '17010', prof: '17020', walDri: 'x', colour: 'blue' }, (file) => {
      assert.deepEqual(readConfig(file, {}).warnings, [
        'config key "prof" is a CubeFS key cubemaster does not use: ignored',
        'config key "walDri" is unknown: ignored (did you mean "walDir"?)',
        'config key "colour" is unknown: ignored',
      ]);
    });
  });

  void it('refuses a file that is not a JSON object, naming the file', () => {
    withFile('{"id": ', (file) => assert.match(refusal(() => readConfig(file, {})).message, /is not JSON/));
    withFile('[1]', (file) => assert.match(refusal(() => readConfig(file, {})).message, /must hold a JSON object/));
    assert.match(refusal(() => readConfig('/nonexistent/master.json', {})).message, /cannot read config file \/nonexistent\/master.json/);
  });
});

void describe('docs/config.md', () => {
  void it('is what the schema generates (run `npm run docs:config` after changing a key)', () => {
    const committed = readFileSync(path.join(here, '..', '..', '..', 'docs', 'config.md'), 'utf8');
    assert.equal(committed, renderConfigDoc());
  });

  void it('documents every key', () => {
    const doc = renderConfigDoc();
    for (const key of configKeys()) assert.match(doc, new RegExp(`\\| \`${key}\``), key);
  });
});
