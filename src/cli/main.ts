#!/usr/bin/env node
// cubemaster: the command line. `cubemaster server --config master.json` runs a master.
import { Command } from 'commander';
import { RecoverUsageError, runRecover, type RecoverFlags } from './recover-command.js';
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
    await runRecover(options).catch((e: unknown) => {
      if (!(e instanceof RecoverUsageError)) throw e;
      process.stderr.write(`cubemaster recover: ${e.message}\n`);
      process.exit(2);
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
    await runSimNodes(options);
  });

await program.parseAsync(process.argv);
