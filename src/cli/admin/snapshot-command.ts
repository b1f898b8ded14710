// `cubemaster snapshot save|verify|restore` (docs/cli.md, "Backup and restore").
//
// save FILE: GET /cubemaster/snapshot (signed by root) from a member (any member: the first of
// --masters that answers, or --member), written to FILE.partial and verified while it arrives
// (every record's digest against the trailer), then fsynced and renamed to FILE: FILE is either a
// whole verified backup or absent. The member's writes go on meanwhile.
// verify FILE: reads a backup end to end and prints what it holds.
// restore FILE --data-dir DIR --members 1:ip:port,...: writes each new member's walDir and
// storeDir (src/server/snapshot-restore.ts); start the new masters with those directories and
// `peers` equal to --members.
import { createReadStream } from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { FileHandle } from 'node:fs/promises';
import { readSnapshotFile, SnapshotFileError, verifySnapshotFile, type SnapshotFileHeader, type SnapshotFileTrailer } from '../../fsm/snapshot-file.js';
import { CONFIG_KEYS } from '../../server/config-schema.js';
import { parsePeers } from '../../server/config.js';
import { adminAction, reportError, withClientOptions, type AdminContext } from './context.js';
import { envelopeData, readBody } from './master-client.js';
import { CliError, LocalError, UnreachableError, UsageError } from './errors.js';
import { createOutput, fields } from './output.js';
import { Progress } from './progress.js';
import { parseCount } from './parse.js';

const SNAPSHOT_ROUTE = '/cubemaster/snapshot';
/** Bound on a pause in the download (no byte for this long: the member is gone). */
const STALL_TIMEOUT_MS = 60_000;
const SILENT_LOGGER = { info: () => undefined, warn: () => undefined, error: () => undefined };

export function registerSnapshotCommands(program: Command): void {
  const snapshot = program.command('snapshot').description('backups: save a consistent snapshot of a running cluster, verify one, restore one into a new cluster');
  withClientOptions(snapshot.command('save <file>'))
    .description("save a consistent backup of a member's state (any member; writes go on) to FILE, verified (signed by root)")
    .option('--member <host:port>', 'read from this member (default: the first of --masters that answers)')
    .action(adminAction(save));
  snapshot
    .command('verify <file>')
    .description('read a backup end to end, check its digests, print what it holds')
    .option('--json', 'print the data as JSON, for scripts')
    .action(localAction(async (json, file: string) => verify(file, json)));
  snapshot
    .command('restore <file>')
    .description('write the data directories of a NEW master group from a backup')
    .requiredOption('--data-dir <dir>', 'where to write: <dir>/<id>/{wal,store} per member, or <dir>/{wal,store} with --id')
    .requiredOption('--members <peers>', 'the new group, id:ip:httpPort[:raftPort],... (its masters\' "peers")')
    .option('--id <id>', 'write only this member\'s directories (each machine restores its own)')
    .option('--replica-port <port>', `Raft port of members that name none (default ${CONFIG_KEYS.replicaPort.default})`)
    .option('--json', 'print the data as JSON, for scripts')
    .option('-q, --quiet', 'no progress on stderr')
    .action(localAction(restore));
}

/** Commands that work on local files only: same error handling and exit codes. */
function localAction<A extends unknown[]>(work: (json: boolean, ...args: A) => Promise<void>): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const options = (args[args.length - 1] as Command).opts<{ json?: boolean }>();
    try {
      await work(options.json === true, ...(args.slice(0, -1) as A));
    } catch (error) {
      reportError(localError(error), options.json === true);
    }
  };
}

function localError(error: unknown): unknown {
  if (error instanceof CliError) return error;
  // RestoreError by name: its module (RocksDB, the FSM) is loaded only by restore.
  if (error instanceof SnapshotFileError || (error instanceof Error && error.name === 'RestoreError')) return new LocalError(error.message);
  const e = error as NodeJS.ErrnoException;
  if (typeof e.code === 'string' && typeof e.syscall === 'string') return new LocalError(`${e.syscall} ${e.path ?? ''}: ${e.message}`);
  return error;
}

async function save(ctx: AdminContext, file: string, options: { member?: string }): Promise<void> {
  const target = path.resolve(file);
  const partial = `${target}.partial`;
  const { member, response } = await ctx.client.open(SNAPSHOT_ROUTE, { signed: true, member: options.member });
  // A refusal before the first byte is an envelope (HTTP 200, JSON): the cluster's answer.
  if ((response.headers['content-type'] ?? '').startsWith('application/json')) {
    envelopeData(member, SNAPSHOT_ROUTE, await readBody(response, 64 * 1024), true);
    throw new UnreachableError(`${member} answered ${SNAPSHOT_ROUTE} with an envelope instead of a snapshot`);
  }
  response.setTimeout(STALL_TIMEOUT_MS, () => response.destroy(new Error(`no data from ${member} for ${STALL_TIMEOUT_MS} ms`)));
  let handle: FileHandle | null = await fsp.open(partial, 'w').catch((error: unknown) => {
    response.destroy();
    throw localError(error);
  });
  const progress = ctx.progress({ label: `saving from ${member}`, unit: 'records' });
  let bytes = 0;
  try {
    const out = handle;
    // Every byte to the file as it arrives; a broken download is the member's fault (exit 3),
    // a failed write ours (exit 5).
    async function* written(): AsyncGenerator<Uint8Array> {
      const chunks = (response as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
      for (;;) {
        let next: IteratorResult<Buffer>;
        try {
          next = await chunks.next();
        } catch (error) {
          throw new UnreachableError(`the download from ${member} broke after ${bytes} bytes: ${(error as Error).message}`);
        }
        if (next.done === true) return;
        await out.write(next.value);
        bytes += next.value.byteLength;
        yield next.value;
      }
    }
    const reader = readSnapshotFile(written());
    let estimate: number | null = null;
    void reader.header.then((h) => (estimate = h.recordsEstimate), () => undefined);
    let n = 0;
    try {
      for await (const _ of reader.records()) progress.update(++n, estimate, mib(bytes));
    } catch (error) {
      throw error instanceof SnapshotFileError ? new UnreachableError(`the snapshot from ${member} did not arrive whole: ${error.message}`) : error;
    }
    const result = { header: await reader.header, trailer: reader.trailer() };
    await handle.sync();
    await handle.close();
    handle = null;
    await fsp.rename(partial, target);
    await fsyncDir(path.dirname(target));
    progress.finish(result.trailer.records, result.trailer.records, mib(bytes));
    const report = { file: target, member, bytes, ...summary(result.header, result.trailer) };
    ctx.out.result(report, () => fields([['file', target], ['from', `master ${result.header.memberId} (${member})`], ['size', mib(bytes)], ...summaryFields(result.header, result.trailer)]));
  } catch (error) {
    response.destroy();
    await handle?.close().catch(() => undefined);
    await fsp.rm(partial, { force: true });
    throw localError(error);
  }
}

async function verify(file: string, json: boolean): Promise<void> {
  const { header, trailer } = await verifySnapshotFile(createReadStream(file));
  const stat = await fsp.stat(file);
  createOutput(json).result({ file: path.resolve(file), bytes: stat.size, ...summary(header, trailer) }, () =>
    fields([['file', path.resolve(file)], ['from', `master ${header.memberId}`], ['size', mib(stat.size)], ...summaryFields(header, trailer), ['verified', 'yes']]),
  );
}

async function restore(json: boolean, file: string, options: { dataDir: string; members: string; id?: string; replicaPort?: string; quiet?: boolean }): Promise<void> {
  const replicaPort = options.replicaPort === undefined ? CONFIG_KEYS.replicaPort.default : parseCount('--replica-port', options.replicaPort);
  let members;
  try {
    members = parsePeers(options.members, replicaPort);
  } catch (error) {
    throw new UsageError(`--members: ${(error as Error).message.replace(/^config: /, '')}`);
  }
  const onlyId = options.id === undefined ? null : parseCount('--id', options.id);
  if (onlyId !== null && !members.some((m) => m.id === onlyId)) throw new UsageError(`--id ${onlyId} is not one of --members`);
  const dataDir = path.resolve(options.dataDir);
  // Loaded on use: RocksDB and the FSM are not needed by the other commands.
  const { restoreSnapshot, targetDirs } = await import('../../server/snapshot-restore.js');
  const targets = (onlyId === null ? members.map((m) => m.id) : [onlyId]).map((id) => targetDirs(dataDir, id, onlyId !== null));
  const progress = new Progress({ label: 'restoring', unit: 'records', enabled: options.quiet !== true });
  const report = await restoreSnapshot(createReadStream(file), {
    members,
    targets,
    logger: SILENT_LOGGER,
    onRecords: (n, header) => progress.update(n, header.recordsEstimate),
  });
  progress.finish(report.trailer.records, report.trailer.records);
  const peers = members.map((m) => `${m.id}:${m.host}:${m.httpPort}:${m.raftPort}`).join(',');
  const out = createOutput(json);
  out.result({ ...summary(report.header, report.trailer), peers, targets: report.targets }, () =>
    [
      fields(summaryFields(report.header, report.trailer)),
      `\nwritten (each verified: model loaded, digest equal):\n`,
      ...report.targets.map((t) => `  master ${t.id}: walDir ${t.walDir}, storeDir ${t.storeDir}\n`),
      `\nstart each new master with those directories and:\n  "clusterName": "${report.header.clusterName}", "peers": "${peers}"\n`,
    ].join(''),
  );
}

function summary(header: SnapshotFileHeader, trailer: SnapshotFileTrailer) {
  return {
    clusterName: header.clusterName,
    memberId: header.memberId,
    index: header.index,
    term: header.term,
    conf: header.conf,
    createdAt: header.createdAtIso,
    records: trailer.records,
    stateDigest: trailer.stateDigest,
    sha256: trailer.sha256,
  };
}

function summaryFields(header: SnapshotFileHeader, trailer: SnapshotFileTrailer): [string, string | number][] {
  return [
    ['cluster', header.clusterName],
    ['applied index', header.index],
    ['term', header.term],
    ['members then', `voters ${header.conf.voters.join(',')}${header.conf.learners.length > 0 ? `, learners ${header.conf.learners.join(',')}` : ''}`],
    ['taken at', header.createdAtIso],
    ['records', trailer.records],
    ['state digest', trailer.stateDigest],
  ];
}

function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

async function fsyncDir(dir: string): Promise<void> {
  const handle = await fsp.open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
