// `cubemaster check-config [--config FILE] [flags]`: validates a configuration exactly as
// `server` would read it and prints the effective value of every key and where it came from
// (flag, file, default). Unknown keys are warned about on stderr. Exit 0 when valid, 5 when not
// (with the message naming the key, the value and what is allowed).
import type { Command } from 'commander';
import { configKeys, fieldOf } from '../../server/config-schema.js';
import { ConfigError, readConfig, type MasterConfig, type PeerConfig } from '../../server/config.js';
import { addConfigFlags, configOverrides } from '../config-flags.js';
import { reportError } from './context.js';
import { LocalError } from './errors.js';
import { createOutput, table } from './output.js';

export function registerCheckConfigCommand(program: Command): void {
  addConfigFlags(program.command('check-config'))
    .description('validate a master config (file and flags, as `server` reads them) and print the effective values')
    .option('--json', 'print the effective config as JSON')
    .action((options: Record<string, unknown>) => {
      const json = options.json === true;
      try {
        checkConfig(options, json);
      } catch (error) {
        reportError(error instanceof ConfigError ? new LocalError(error.message) : error, json);
      }
    });
}

function checkConfig(options: Record<string, unknown>, json: boolean): void {
  const loaded = readConfig(typeof options.config === 'string' ? options.config : undefined, configOverrides(options));
  for (const warning of loaded.warnings) process.stderr.write(`warning: ${warning}\n`);
  const rows = configKeys().map((key) => ({ key, value: valueText(loaded.config, fieldOf(key)), from: loaded.sources.get(key) ?? 'default' }));
  createOutput(json).result(
    { file: loaded.file, config: loaded.config, sources: Object.fromEntries(loaded.sources), warnings: loaded.warnings },
    () =>
      `${loaded.file === null ? 'no config file: flags and defaults' : `config file ${loaded.file}`}: valid\n\n` +
      table(rows, [
        { header: 'KEY', value: (r) => r.key },
        { header: 'VALUE', value: (r) => r.value },
        { header: 'FROM', value: (r) => r.from },
      ]),
  );
}

function valueText(config: MasterConfig, field: string): string {
  const value = (config as unknown as Record<string, unknown>)[field];
  if (value === undefined) return '(unset)';
  if (Array.isArray(value)) return (value as PeerConfig[]).map((p) => `${p.id}:${p.host}:${p.httpPort}:${p.raftPort}`).join(',');
  return typeof value === 'string' ? value : JSON.stringify(value);
}
