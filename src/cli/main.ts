#!/usr/bin/env node
// cubemaster: the command line. `cubemaster server --config master.json` runs a master; the
// admin commands (status, members, vol, node, user, snapshot, check-config, completion) talk to
// a running cluster over its HTTP API (docs/cli.md). Exit codes: src/cli/admin/errors.ts.
import { Command, CommanderError } from 'commander';
import { EXIT, registerAdminCommands } from './admin/index.js';
import { addConfigFlags } from './config-flags.js';
import type { RecoverFlags } from './recover-command.js';
import type { CertsOptions } from './certs-command.js';
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
  .command('recover')
  .description('start a NEW master that rebuilds the cluster from its meta and data nodes after every master was lost (docs/recovery.md)')
  .option('-c, --config <file>', 'CubeFS master.json (walDir and storeDir must be empty unless --force)')
  .option('--nodes <addrs>', '[meta:|data:]ip:port,... nodes to ask (their partitions\' peers are asked too)')
  .option('--node-ids <ids>', 'ip:port=id,... or @file.json: ids of nodes that restarted during the outage')
  .option('--report <file>', 'where the JSON report goes (the summary goes next to it as .txt)')
  .option('--collect-timeout-ms <ms>', 'collect reports until every known node answered, or this long', '120000')
  .option('--id-margin <n>', 'id counters start this far above the highest id seen', '10000')
  .option('--force', 'run on a non-empty store: another round on a recovered cluster')
  .option('--log-level <level>', 'config key "logLevel"')
  .action(async (options: RecoverFlags) => {
    const { RecoverUsageError, runRecover } = await import('./recover-command.js');
    await runRecover(options).catch((e: unknown) => {
      if (!(e instanceof RecoverUsageError)) throw e;
      process.stderr.write(`cubemaster recover: ${e.message}\n`);
      process.exit(EXIT.usage);
    });
  });

program
  .command('sim-nodes')
  .description('run simulated meta and data nodes against the masters (real HTTP and TCP protocol)')
  .option('--masters <addrs>', 'master HTTP addresses, host:port,...', '127.0.0.1:17010')
  .option('--meta <n>', 'meta nodes', '3')
  .option('--data <n>', 'data nodes', '3')
  .option('--zones <names>', 'zones, assigned round-robin ("" = default)', '')
  .option('--state-dir <dir>', 'keep the nodes\' partitions and ports here: started again, they come back as they were')
  .action(async (options: SimNodesOptions) => {
    const { runSimNodes } = await import('./sim-nodes-command.js');
    await runSimNodes(options);
  });

program
  .command('certs')
  .description('make a test CA and member (and client) certificates for peer TLS and HTTPS (docs/security.md)')
  .requiredOption('--out <dir>', 'where the PEM files go (an existing ca.pem + ca-key.pem there is reused)')
  .requiredOption('--cluster <name>', 'the cluster\'s clusterName (certificates are bound to it)')
  .option('--member <id=addr,...>', 'a member: its id and the addresses HTTPS clients use (repeatable)', (v: string, all: string[]) => [...all, v], [])
  .option('--client <name>', 'a client certificate for HTTPS with client certificates (repeatable)', (v: string, all: string[]) => [...all, v], [])
  .option('--days <n>', 'validity of member and client certificates', '365')
  .option('--ca-days <n>', 'validity of a new CA', '3650')
  .option('--force', 'replace existing member and client files')
  .action(async (options: CertsOptions) => {
    // Loaded on demand: the certificate library stays out of the server process.
    const { runCerts } = await import('./certs-command.js');
    try {
      for (const line of await runCerts(options)) console.log(line);
    } catch (error) {
      program.error(`cubemaster certs: ${(error as Error).message}`);
    }
  });

registerAdminCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (!(error instanceof CommanderError)) throw error;
  // Commander printed the message (or the help) already.
  process.exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
}
