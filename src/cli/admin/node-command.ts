// `cubemaster node list|info|decommission`: meta and data nodes as the leader sees them
// (liveness from their heartbeats). A decommission moves every replica off a node; the command
// follows it with a progress bar (the node's partition count going to zero) unless --no-wait.
import type { Command } from 'commander';
import { adminAction, withClientOptions, type AdminContext } from './context.js';
import { RefusedError, UsageError, WaitTimeoutError } from './errors.js';
import { bytesText, fields, table } from './output.js';
import { parseCount, sleep } from './parse.js';

type Kind = 'meta' | 'data';

interface NodeBrief {
  readonly ID: number;
  readonly Addr: string;
  readonly Status: boolean;
  readonly IsWritable: boolean;
}

interface NodeInfo {
  readonly ID: number;
  readonly Addr: string;
  readonly Zone: string;
  readonly IsActive: boolean;
  readonly IsWriteAble: boolean;
  readonly NodeSetID: number;
  readonly ReportTime: string;
  readonly MetaPartitionCount?: number;
  readonly DataPartitionCount?: number;
  readonly TotalWeight?: number | bigint;
  readonly UsedWeight?: number | bigint;
  readonly RdOnly: boolean;
}

/** CubeFS MetaNodeNotExists / DataNodeNotExists. */
const NODE_NOT_FOUND = new Set([12, 13]);
const DECOMMISSION_POLL_MS = 1_000;
const DEFAULT_DECOMMISSION_WAIT_MS = 3_600_000;

export function registerNodeCommands(program: Command): void {
  const node = program.command('node').description('meta and data nodes: list, info, decommission');
  withClientOptions(node.command('list'))
    .description('every meta and data node with its liveness')
    .option('--kind <kind>', 'meta or data (default: both)')
    .action(adminAction(async (ctx, options: { kind?: string }) => list(ctx, kinds(options.kind))));
  withClientOptions(node.command('info <addr>'))
    .description("a node's zone, node set, partitions, usage and last report")
    .option('--kind <kind>', 'meta or data (default: whichever has that addr)')
    .action(adminAction(async (ctx, addr: string, options: { kind?: string }) => info(ctx, addr, kinds(options.kind))));
  withClientOptions(node.command('decommission <addr>'))
    .description('move every replica off a node (signed by root); follows it until the node holds none')
    .requiredOption('--kind <kind>', 'meta or data')
    .option('--no-wait', 'return once the master accepted it')
    .option('--wait-ms <ms>', `bound on following it (default ${DEFAULT_DECOMMISSION_WAIT_MS})`)
    .action(adminAction(decommission));
}

function kinds(text: string | undefined): Kind[] {
  if (text === undefined) return ['meta', 'data'];
  if (text !== 'meta' && text !== 'data') throw new UsageError(`--kind must be meta or data, got "${text}"`);
  return [text];
}

async function list(ctx: AdminContext, which: Kind[]): Promise<void> {
  const rows: (NodeBrief & { kind: Kind })[] = [];
  for (const kind of which) {
    const nodes = await ctx.client.call<NodeBrief[]>(kind === 'meta' ? '/admin/cluster/getAllMetaNodes' : '/admin/cluster/getAllDataNodes');
    rows.push(...nodes.map((n) => ({ ...n, kind })));
  }
  ctx.out.result(rows, () =>
    table(rows, [
      { header: 'KIND', value: (n) => n.kind },
      { header: 'ID', value: (n) => n.ID, align: 'right' },
      { header: 'ADDR', value: (n) => n.Addr },
      { header: 'ACTIVE', value: (n) => (n.Status ? 'yes' : 'no') },
      { header: 'WRITABLE', value: (n) => (n.IsWritable ? 'yes' : 'no') },
    ]),
  );
}

async function nodeInfo(ctx: AdminContext, addr: string, which: Kind[]): Promise<{ kind: Kind; node: NodeInfo }> {
  for (const kind of which) {
    try {
      return { kind, node: await ctx.client.call<NodeInfo>(kind === 'meta' ? '/metaNode/get' : '/dataNode/get', { query: { addr } }) };
    } catch (error) {
      if (!(error instanceof RefusedError && NODE_NOT_FOUND.has(error.code)) || kind === which[which.length - 1]) throw error;
    }
  }
  throw new UsageError(`no node ${addr}`);
}

async function info(ctx: AdminContext, addr: string, which: Kind[]): Promise<void> {
  const { kind, node } = await nodeInfo(ctx, addr, which);
  ctx.out.result({ kind, ...node }, () =>
    fields([
      ['kind', kind],
      ['id', node.ID],
      ['addr', node.Addr],
      ['zone', node.Zone],
      ['node set', node.NodeSetID],
      ['active', node.IsActive ? 'yes' : 'no'],
      ['writable', node.IsWriteAble ? 'yes' : 'no'],
      ['read-only', node.RdOnly ? 'yes' : 'no'],
      ['partitions', partitionCount(kind, node)],
      ['used', `${bytesText(node.UsedWeight)} of ${bytesText(node.TotalWeight)}`],
      ['last report', node.ReportTime],
    ]),
  );
}

/** What the node still holds; a node the master dropped at the end of its decommission holds nothing. */
async function partitionsLeft(ctx: AdminContext, kind: Kind, addr: string): Promise<number> {
  try {
    return partitionCount(kind, (await nodeInfo(ctx, addr, [kind])).node);
  } catch (error) {
    if (error instanceof RefusedError && NODE_NOT_FOUND.has(error.code)) return 0;
    throw error;
  }
}

function partitionCount(kind: Kind, node: NodeInfo): number {
  return (kind === 'meta' ? node.MetaPartitionCount : node.DataPartitionCount) ?? 0;
}

async function decommission(ctx: AdminContext, addr: string, options: { kind: string; wait: boolean; waitMs?: string }): Promise<void> {
  const [kind] = kinds(options.kind);
  const before = partitionCount(kind, (await nodeInfo(ctx, addr, [kind])).node);
  const accepted = await ctx.client.call<unknown>('/cubemaster/node/decommission', { method: 'POST', signed: true, query: { kind, addr } });
  if (!options.wait) {
    ctx.out.result(accepted, () => `decommission of ${kind} node ${addr} submitted (${before} partitions to move)\n`);
    return;
  }
  const waitMs = options.waitMs === undefined ? DEFAULT_DECOMMISSION_WAIT_MS : parseCount('--wait-ms', options.waitMs);
  const progress = ctx.progress({ label: `decommissioning ${kind} node ${addr}`, unit: 'partitions' });
  const deadline = Date.now() + waitMs;
  for (;;) {
    const left = await partitionsLeft(ctx, kind, addr);
    if (left === 0) {
      progress.finish(before, before, 'moved');
      break;
    }
    progress.update(Math.max(0, before - left), before, `${left} left`);
    if (Date.now() > deadline) throw new WaitTimeoutError(`${kind} node ${addr} still holds ${left} partitions after ${waitMs} ms; the decommission goes on in the master`);
    await sleep(DECOMMISSION_POLL_MS);
  }
  ctx.out.result({ kind, addr, moved: before }, () => `${kind} node ${addr} holds no partition any more (${before} moved)\n`);
}
