// The config flags of `server` and `check-config`, made from the schema (config-schema.ts): a key
// with a `flag` gets that option, and its value goes back to the key as an override.
import type { Command } from 'commander';
import { allowedText, configKeys, keySpec } from '../server/config-schema.js';

/** Adds `-c, --config <file>` and one option per schema key that has a flag. */
export function addConfigFlags(command: Command): Command {
  command.option('-c, --config <file>', 'CubeFS master.json');
  for (const key of configKeys()) {
    const spec = keySpec(key);
    if (spec.flag === undefined) continue;
    // A boolean flag takes no value: present means true.
    if (spec.kind === 'bool') command.option(spec.flag, `config key "${key}": ${spec.doc}`);
    else command.option(`${spec.flag} <value>`, `config key "${key}": ${spec.doc} (${allowedText(spec)})`);
  }
  return command;
}

/** Commander's parsed options -> config overrides keyed by config key. */
export function configOverrides(options: Readonly<Record<string, unknown>>): Record<string, string | undefined> {
  const overrides: Record<string, string | undefined> = {};
  for (const key of configKeys()) {
    const flag = keySpec(key).flag;
    if (flag === undefined) continue;
    const value = options[optionName(flag)];
    overrides[key] = typeof value === 'string' ? value : value === true ? 'true' : undefined;
  }
  return overrides;
}

/** `--wal-dir` -> `walDir`, as commander names the option. */
function optionName(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
