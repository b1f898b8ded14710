#!/usr/bin/env node
// cubemaster: the command line. `cubemaster server --config master.json` runs a master.
import { Command } from 'commander';
import type { CertsOptions } from './certs-command.js';
import { runServer } from './server-command.js';
import { runSimNodes, type SimNodesOptions } from './sim-nodes-command.js';

const program = new Command();
program.name('cubemaster').description('A CubeFS-compatible master service');

program
  .command('server')
  .description('run a master (single node with no config: 127.0.0.1:17010, data in ./data)')
  .option('-c, --config <file>', 'CubeFS master.json')
  .option('--id <id>', 'this master\'s raft id (config key "id")')
  .option('--ip <ip>', 'address to bind (config key "ip")')
  .option('--listen <port>', 'HTTP port (config key "listen")')
  .option('--peers <peers>', 'id:ip:httpPort[:raftPort],... (config key "peers")')
  .option('--wal-dir <dir>', 'Raft log directory (config key "walDir")')
  .option('--store-dir <dir>', 'RocksDB directory (config key "storeDir")')
  .option('--replica-port <port>', 'Raft port (config key "replicaPort")')
  .option('--cluster-name <name>', 'config key "clusterName"')
  .option('--log-level <level>', 'config key "logLevel"')
  .option('--shutdown-timeout-ms <ms>', 'bound on waiting for work in flight at stop')
  .action(async (options: Record<string, string | undefined>) => {
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

await program.parseAsync(process.argv);
