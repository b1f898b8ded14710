#!/usr/bin/env node
// cubemaster: the command line. `cubemaster server --config master.json` runs a master; the
// admin commands (status, members, vol, node, user, snapshot, check-config, completion) talk to
// a running cluster over its HTTP API (docs/cli.md). Exit codes: src/cli/admin/errors.ts.
import { Command, CommanderError } from 'commander';
import { EXIT, registerAdminCommands } from './admin/index.js';
import { addConfigFlags } from './config-flags.js';
import type { SimNodesOptions } from './sim-nodes-command.js';

const program = new Command();
program.name('cubemaster').description('A CubeFS-compatible master service');
// Usage errors exit with 2 (help and version with 0), not commander's 1: scripts tell them apart.
program.exitOverride();

addConfigFlags(program.command('server'))
  .description('run a master (single node with no config: 127.0.0.1:17010, data in ./data)')
  .option('--demo', 'also run simulated meta and data nodes in this process, with a demo user and vol')
  .action(async (options: Record<string, unknown>) => {
    // Loaded on use: the admin commands start in a fraction of the time without the master.
    const { runServer } = await import('./server-command.js');
    await runServer(options);
  });

program
  .command('sim-nodes')
  .description('run simulated meta and data nodes against the masters (real HTTP and TCP protocol)')
  .option('--masters <addrs>', 'master HTTP addresses, host:port,...', '127.0.0.1:17010')
  .option('--meta <n>', 'meta nodes', '3')
  .option('--data <n>', 'data nodes', '3')
  .option('--zones <names>', 'zones, assigned round-robin ("" = default)', '')
  .action(async (options: SimNodesOptions) => {
    const { runSimNodes } = await import('./sim-nodes-command.js');
    await runSimNodes(options);
  });

registerAdminCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Commander printed the message (or the help) already.
  process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
