// `cubemaster vol list|info|create|delete|expand|shrink`: the volume routes cfs-cli uses (spec
// 8.1), with human tables. Routes that want the owner's authKey (md5 of the owner) get it from
// the vol's own record, as cfs-cli does.
import { createHash } from 'node:crypto';
import type { Command } from 'commander';
import { adminAction, withClientOptions, type AdminContext } from './context.js';
import { bytesText, fields, table } from './output.js';
import { parseCount } from './parse.js';

interface VolInfo {
  readonly Name: string;
  readonly Owner: string;
  readonly CreateTime: number;
  readonly Status: number;
  readonly TotalSize: number | bigint;
  readonly UsedSize: number | bigint;
}

interface SimpleVol {
  readonly ID: number;
  readonly Name: string;
  readonly Owner: string;
  readonly ZoneName: string;
  readonly Status: number;
  readonly Capacity: number;
  readonly MpReplicaNum: number;
  readonly DpReplicaNum: number;
  readonly MpCnt: number;
  readonly DpCnt: number;
  readonly RwDpCnt: number;
  readonly InodeCount: number | bigint;
  readonly CreateTime: string;
  readonly Description?: string;
}

const VOL_STATUS: Readonly<Record<number, string>> = { 0: 'normal', 1: 'marked for deletion' };
/** A create places every partition on its nodes: as long as the master's own bound. */
const CREATE_TIMEOUT_MS = 120_000;

export function registerVolCommands(program: Command): void {
  const vol = program.command('vol').description('volumes: list, info, create, delete, expand, shrink');
  withClientOptions(vol.command('list'))
    .description('every volume (with --keyword, those whose name contains it)')
    .option('--keyword <text>', 'only names containing this')
    .action(adminAction(async (ctx, options: { keyword?: string }) => list(ctx, options.keyword ?? '')));
  withClientOptions(vol.command('info <name>'))
    .description("a volume's settings and partition counts")
    .action(adminAction(info));
  withClientOptions(vol.command('create <name> <owner>'))
    .description('create a volume (the owner user is created when missing, as in CubeFS)')
    .option('--capacity <GB>', 'capacity in GB', '10')
    .option('--mp-count <n>', 'meta partitions', '3')
    .option('--dp-count <n>', 'data partitions', '10')
    .option('--replicas <n>', 'data partition replicas (default: the cluster\'s)')
    .option('--zone <name>', 'zone (default: any)')
    .option('--description <text>', 'free text')
    .action(adminAction(create));
  withClientOptions(vol.command('delete <name>'))
    .description('mark a volume for deletion; its partitions are then removed from the nodes')
    .action(adminAction(remove));
  for (const direction of ['expand', 'shrink'] as const) {
    withClientOptions(vol.command(`${direction} <name> <capacityGB>`))
      .description(`${direction} a volume to the given capacity in GB`)
      .action(adminAction(async (ctx, name: string, capacity: string) => setCapacity(ctx, direction, name, capacity)));
  }
}

async function list(ctx: AdminContext, keyword: string): Promise<void> {
  const vols = await ctx.client.call<VolInfo[]>('/vol/list', { query: { keywords: keyword } });
  ctx.out.result(vols, () =>
    table(vols, [
      { header: 'NAME', value: (v) => v.Name },
      { header: 'OWNER', value: (v) => v.Owner },
      { header: 'STATUS', value: (v) => VOL_STATUS[v.Status] ?? v.Status },
      { header: 'CAPACITY', value: (v) => bytesText(v.TotalSize), align: 'right' },
      { header: 'USED', value: (v) => bytesText(v.UsedSize), align: 'right' },
      { header: 'CREATED', value: (v) => new Date(v.CreateTime * 1000).toISOString() },
    ]),
  );
}

async function info(ctx: AdminContext, name: string): Promise<void> {
  const v = await ctx.client.call<SimpleVol>('/admin/getVol', { query: { name } });
  ctx.out.result(v, () =>
    fields([
      ['name', v.Name],
      ['id', v.ID],
      ['owner', v.Owner],
      ['status', VOL_STATUS[v.Status] ?? v.Status],
      ['capacity', `${v.Capacity} GB`],
      ['zone', v.ZoneName],
      ['meta partitions', `${v.MpCnt} (${v.MpReplicaNum} replicas)`],
      ['data partitions', `${v.DpCnt}, ${v.RwDpCnt} writable (${v.DpReplicaNum} replicas)`],
      ['inodes', v.InodeCount],
      ['created', v.CreateTime],
      ['description', v.Description ?? ''],
    ]),
  );
}

async function create(
  ctx: AdminContext,
  name: string,
  owner: string,
  o: { capacity: string; mpCount: string; dpCount: string; replicas?: string; zone?: string; description?: string },
): Promise<void> {
  const query = {
    name,
    owner,
    capacity: parseCount('--capacity', o.capacity),
    mpCount: parseCount('--mp-count', o.mpCount),
    dpCount: parseCount('--dp-count', o.dpCount),
    replicaNum: o.replicas === undefined ? undefined : parseCount('--replicas', o.replicas),
    zoneName: o.zone,
    description: o.description,
  };
  const progress = ctx.progress({ label: `creating vol ${name}` });
  const message = await ctx.client.call<string>('/admin/createVol', { query, timeoutMs: CREATE_TIMEOUT_MS });
  progress.finish(1, 1, 'done');
  ctx.out.result({ name, message }, () => `${message}\n`);
}

async function remove(ctx: AdminContext, name: string): Promise<void> {
  const authKey = await authKeyOf(ctx, name);
  const message = await ctx.client.call<string>('/vol/delete', { query: { name, authKey } });
  ctx.out.result({ name, message }, () => `${message}\n`);
}

async function setCapacity(ctx: AdminContext, direction: 'expand' | 'shrink', name: string, capacityText: string): Promise<void> {
  const capacity = parseCount('capacityGB', capacityText);
  const authKey = await authKeyOf(ctx, name);
  const message = await ctx.client.call<string>(`/vol/${direction}`, { query: { name, authKey, capacity } });
  ctx.out.result({ name, capacity, message: message.trim() }, () => message);
}

/** cfs-cli's authKey: md5 of the owner, read from the vol. */
async function authKeyOf(ctx: AdminContext, name: string): Promise<string> {
  const v = await ctx.client.call<SimpleVol>('/admin/getVol', { query: { name } });
  return createHash('md5').update(v.Owner).digest('hex');
}
