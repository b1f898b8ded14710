// The cfs-cli cases: every command of spec/cubefs-master.md section 8.1, happy paths and errors,
// in one fixed sequence that both targets run in lockstep (each case sees the state the previous
// ones left, identically on both sides). `expect` is what the reference does (the self-check).
//
// Arguments may name per-target values: {M1} (master), {MN1} / {DN1} (the first meta / data
// node), {mp:VOL:i} / {dp:VOL:i} (the i-th meta / data partition id of VOL, by id), {nodeset:i}.
import { maskLabel, maskPattern, type Mask } from './normalize.js';

export interface CliCase {
  readonly kind: 'cli';
  readonly name: string;
  /** The spec 8.1 command this case exercises (coverage list in the report). */
  readonly command: string;
  readonly args: readonly string[];
  /** Fed to the confirmation prompt (`user perm` always asks; others take -y). */
  readonly stdin?: string;
  /** The reference's exit status; the Go-only self-check asserts it. */
  readonly expect: 'ok' | 'fail';
  /**
   * The Go master lists these rows in map order: the lines after the first `sortRowsAfter`
   * (the headers) are compared sorted.
   */
  readonly sortRowsAfter?: number;
  readonly masks?: readonly Mask[];
}

/**
 * startNodes: the target's node provider starts its nodes. waitPartitions: until the client
 * views of each vol (/client/metaPartitions, /client/partitions) list as many partitions as
 * /admin/getVol counts (the Go master refreshes those views in the background) and every
 * partition reports a leader (from the nodes' heartbeats).
 */
export type SetupAction = { readonly do: 'startNodes' } | { readonly do: 'waitPartitions'; readonly vols: readonly string[] };

export interface SetupStep {
  readonly kind: 'setup';
  readonly name: string;
  readonly action: SetupAction;
}

export type Step = CliCase | SetupStep;

/** Keys the cases pass explicitly: they must come back verbatim (never normalized). */
export const EXPLICIT_KEYS: ReadonlySet<string> = new Set(['AAAAAAAAAAAAAAAA', 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS']);

// Host-dependent values (the nodes' real disk, memory and cpu; a simulated node reports others).
const HOST = 'depends on the host disk/memory/cpu the nodes run on';
// With 3 masters the election decides which member leads, independently on each side.
const leaderMasks: Mask[] = [maskLabel('Master leader', 'the election decides which member leads')];
const clusterInfoMasks: Mask[] = [...leaderMasks, ...['MetaNode used', 'MetaNode available', 'MetaNode total', 'DataNode used', 'DataNode available', 'DataNode total'].map((l) => maskLabel(l, HOST))];
const statMasks: Mask[] = [
  // Numeric rows under "TOTAL/GB USED/GB ..." and the zone rows: sizes of the host.
  maskPattern(/^( ?)\d+ \d+ \d+(?: [\d.]+%?)?$/m, HOST),
  maskPattern(/^( ?\S+ (?:DATANODE|METANODE|DataNode|MetaNode|data|meta)) .*$/m, HOST),
];
const dataNodeInfoMasks: Mask[] = [
  ...['Allocated ratio', 'Allocated', 'Available', 'Total', 'Used', 'CpuUtil', 'Used ratio'].map((l) => maskLabel(l, HOST)),
  // "IoUtils :" is followed by one "/dev/x:N%" line per device.
  maskPattern(/^( ?IoUtils ?:)(?:\n ?\S+:[\d.]+%)*/m, HOST),
];
const metaNodeInfoMasks: Mask[] = ['Threshold', 'MaxMemAvailWeight', 'Allocated', 'Total', 'CpuUtil'].map((l) => maskLabel(l, HOST));
// A node learns a vol's ForbidWriteOpOfProtoVer0 from a heartbeat request and reports it in a later
// one; when the case runs decides what both masters show.
const forbidV0Mask = maskLabel('ForbidWriteOpOfProtoVer0', 'the nodes report the flag one heartbeat after they learn it');
const dpInfoMasks: Mask[] = [
  forbidV0Mask,
  // The replica row: USEDSIZE, TOTALSIZE and FILECOUNT come from the datanode's disk.
  maskPattern(/^(\{DN\d+\}\S*) .*$/m, HOST),
];
const nodesetInfoMasks: Mask[] = [
  ...['DataTotal', 'DataUsed', 'DataAvail', 'MetaTotal', 'MetaUsed', 'MetaAvail'].map((l) => maskLabel(l, HOST)),
  // Node rows: ID ADDRESS WRITABLE STATUS, then TOTAL USED AVAIL.
  maskPattern(/^( ?\d+ \{(?:MN|DN)\d+\}\S* \S+ \S+) .*$/m, HOST),
];

const cli = (command: string, name: string, args: string[], expect: 'ok' | 'fail', extra: Partial<CliCase> = {}): CliCase => ({ kind: 'cli', command, name, args, expect, ...extra });
const setup = (name: string, action: SetupAction): SetupStep => ({ kind: 'setup', name, action });

const VOL_OK = ['--replica-num', '1', '--mp-count', '3', '--dp-count', '3', '--dp-size', '11', '--capacity', '20', '-y'];
const VOL_SMALL = ['--replica-num', '1', '--mp-count', '1', '--dp-count', '1', '--dp-size', '11', '--capacity', '10', '-y'];
const NOWHERE = '127.0.0.1:1';

export const STEPS: readonly Step[] = [
  // ---- A. a master with no nodes
  cli('cluster info', 'cluster info (no nodes)', ['cluster', 'info'], 'ok', { masks: leaderMasks }),
  cli('cluster stat', 'cluster stat (no nodes)', ['cluster', 'stat'], 'ok'),
  cli('user list', 'user list (root only)', ['user', 'list'], 'ok', { sortRowsAfter: 1 }),
  cli('volume list', 'volume list (empty)', ['volume', 'list'], 'ok'),
  cli('metanode list', 'metanode list (empty)', ['metanode', 'list'], 'ok'),
  cli('datanode list', 'datanode list (empty)', ['datanode', 'list'], 'ok'),
  cli('zone list', 'zone list (empty)', ['zone', 'list'], 'ok'),
  cli('nodeset list', 'nodeset list (empty)', ['nodeset', 'list'], 'ok'),
  cli('volume create', 'volume create: no data nodes', ['volume', 'create', 'vol1', 'alice', '-y'], 'fail'),
  cli('volume create', 'volume create: --volStorageClass 1, no SSD nodes', ['volume', 'create', 'vol1', 'alice', '--volStorageClass', '1', '-y'], 'fail'),
  cli('volume create', 'volume create: name too short', ['volume', 'create', 'ab', 'alice', '-y'], 'fail'),
  cli('volume create', 'volume create: --dp-size 10', ['volume', 'create', 'vol1', 'alice', '--dp-size', '10', '-y'], 'fail'),
  cli('volume info', 'volume info: unknown vol', ['volume', 'info', 'vol1'], 'fail'),
  cli('volume info', 'volume info -s -m -d: unknown vol', ['volume', 'info', 'vol1', '-s', '-m', '-d'], 'fail'),
  cli('volume delete', 'volume delete: unknown vol', ['volume', 'delete', 'vol1', '-y'], 'fail'),
  cli('volume update', 'volume update: unknown vol', ['volume', 'update', 'vol1', '--description', 'x', '-y'], 'fail'),
  cli('volume add-dp', 'volume add-dp: unknown vol', ['volume', 'add-dp', 'vol1', '1'], 'fail'),
  cli('volume add-mp', 'volume add-mp: unknown vol', ['volume', 'add-mp', 'vol1', '1'], 'fail'),
  cli('volume transfer', 'volume transfer: unknown vol', ['volume', 'transfer', 'vol1', 'root', '-y'], 'fail'),
  cli('user create', 'user create alice (generated keys)', ['user', 'create', 'alice', '-y'], 'ok'),
  cli('user create', 'user create bob (admin, given keys)', ['user', 'create', 'bob', '--user-type', 'admin', '--access-key', 'AAAAAAAAAAAAAAAA', '--secret-key', 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS', '--password', 'pw123', '-y'], 'ok'),
  cli('user create', 'user create: duplicate id', ['user', 'create', 'alice', '-y'], 'fail'),
  cli('user create', 'user create: bad access key', ['user', 'create', 'carol', '--access-key', 'short', '-y'], 'fail'),
  cli('user create', 'user create: bad secret key', ['user', 'create', 'carol', '--secret-key', 'SSSSSSSSSSSSSSSSSSSSSSSSSSSSSSSS1', '-y'], 'fail'),
  cli('user create', 'user create: bad user id', ['user', 'create', 'bad!id', '-y'], 'fail'),
  cli('user create', 'user create: bad user type', ['user', 'create', 'carol', '--user-type', 'root', '-y'], 'fail'),
  cli('user info', 'user info alice', ['user', 'info', 'alice'], 'ok'),
  cli('user info', 'user info: unknown user', ['user', 'info', 'nobody'], 'fail'),
  cli('user list', 'user list (root, alice, bob)', ['user', 'list'], 'ok', { sortRowsAfter: 1 }),
  cli('user list', 'user list --keyword bo', ['user', 'list', '--keyword', 'bo'], 'ok', { sortRowsAfter: 1 }),
  cli('user perm', 'user perm: unknown vol', ['user', 'perm', 'alice', 'vol1', 'READONLY'], 'fail', { stdin: '\n' }),
  cli('user perm', 'user perm: unknown user', ['user', 'perm', 'nobody', 'vol1', 'READONLY'], 'fail', { stdin: '\n' }),
  cli('user delete', 'user delete bob', ['user', 'delete', 'bob', '-y'], 'ok'),
  cli('user delete', 'user delete: unknown user', ['user', 'delete', 'nobody', '-y'], 'fail'),
  cli('user delete', 'user delete root', ['user', 'delete', 'root', '-y'], 'fail'),
  cli('user list', 'user list (bob gone)', ['user', 'list'], 'ok', { sortRowsAfter: 1 }),
  cli('cluster freeze', 'cluster freeze true', ['cluster', 'freeze', 'true'], 'ok'),
  cli('cluster freeze', 'cluster info (frozen)', ['cluster', 'info'], 'ok', { masks: leaderMasks }),
  cli('cluster freeze', 'cluster freeze false', ['cluster', 'freeze', 'false'], 'ok'),
  cli('cluster freeze', 'cluster freeze: not a bool', ['cluster', 'freeze', 'maybe'], 'fail'),
  cli('metanode info', 'metanode info: unknown node', ['metanode', 'info', NOWHERE], 'fail'),
  cli('datanode info', 'datanode info: unknown node', ['datanode', 'info', NOWHERE], 'fail'),
  cli('metanode decommission', 'metanode decommission: unknown node', ['metanode', 'decommission', NOWHERE], 'fail'),
  cli('datanode decommission', 'datanode decommission: unknown node', ['datanode', 'decommission', NOWHERE], 'fail'),
  cli('metapartition info', 'metapartition info: unknown id', ['metapartition', 'info', '1'], 'fail'),
  cli('metapartition info', 'metapartition info: not a number', ['metapartition', 'info', 'x'], 'fail'),
  cli('metapartition check', 'metapartition check (empty)', ['metapartition', 'check'], 'ok'),
  cli('metapartition decommission', 'metapartition decommission: unknown id', ['metapartition', 'decommission', NOWHERE, '1'], 'fail'),
  cli('datapartition info', 'datapartition info: unknown id', ['datapartition', 'info', '1'], 'fail'),
  cli('datapartition check', 'datapartition check (empty)', ['datapartition', 'check'], 'ok'),
  // cfs-cli prints this failure ("failed:err(...)") on stdout and exits 0.
  cli('datapartition decommission', 'datapartition decommission: unknown id', ['datapartition', 'decommission', NOWHERE, '1'], 'ok'),
  cli('nodeset info', 'nodeset info: unknown id', ['nodeset', 'info', '1'], 'fail'),
  cli('zone info', 'zone info: unknown zone', ['zone', 'info', 'default'], 'fail'),

  // ---- B. one metanode and one datanode
  setup('start one metanode, then one datanode; wait until both are writable', { do: 'startNodes' }),
  cli('metanode list', 'metanode list', ['metanode', 'list'], 'ok', { sortRowsAfter: 2 }),
  cli('datanode list', 'datanode list', ['datanode', 'list'], 'ok', { sortRowsAfter: 2 }),
  cli('zone list', 'zone list', ['zone', 'list'], 'ok', { sortRowsAfter: 1 }),
  cli('nodeset list', 'nodeset list', ['nodeset', 'list'], 'ok', { sortRowsAfter: 1 }),
  cli('nodeset list', 'nodeset list --zone-name default', ['nodeset', 'list', '--zone-name', 'default'], 'ok', { sortRowsAfter: 1 }),
  cli('nodeset list', 'nodeset list: unknown zone', ['nodeset', 'list', '--zone-name', 'nozone'], 'fail'),
  cli('nodeset info', 'nodeset info', ['nodeset', 'info', '{nodeset:0}'], 'ok', { masks: nodesetInfoMasks }),
  cli('zone info', 'zone info default', ['zone', 'info', 'default'], 'ok'),
  cli('zone info', 'zone info: unknown zone', ['zone', 'info', 'nozone'], 'fail'),
  cli('metanode info', 'metanode info', ['metanode', 'info', '{MN1}'], 'ok', { masks: metaNodeInfoMasks }),
  cli('datanode info', 'datanode info', ['datanode', 'info', '{DN1}'], 'ok', { masks: dataNodeInfoMasks }),
  cli('cluster info', 'cluster info (nodes)', ['cluster', 'info'], 'ok', { masks: clusterInfoMasks }),
  cli('cluster stat', 'cluster stat (nodes)', ['cluster', 'stat'], 'ok', { masks: statMasks }),
  cli('volume create', 'volume create volA', ['volume', 'create', 'volA', 'alice', ...VOL_OK], 'ok'),
  cli('volume create', 'volume create: duplicate vol', ['volume', 'create', 'volA', 'alice', ...VOL_OK], 'fail'),
  cli('volume create', 'volume create: --dp-size 10 (nodes)', ['volume', 'create', 'volB', 'alice', '--replica-num', '1', '--dp-size', '10', '-y'], 'fail'),
  cli('volume create', 'volume create: unknown zone', ['volume', 'create', 'volB', 'alice', '--zone-name', 'nozone', ...VOL_SMALL], 'fail'),
  cli('volume create', 'volume create: --capacity 0', ['volume', 'create', 'volB', 'alice', '--replica-num', '1', '--dp-size', '11', '--capacity', '0', '-y'], 'fail'),
  cli('volume create', 'volume create volD for a new owner frank', ['volume', 'create', 'volD', 'frank', ...VOL_SMALL], 'ok'),
  setup('wait until the partitions of volA and volD are listed, have leaders, no mp Unavailable, no dp ReadOnly', { do: 'waitPartitions', vols: ['volA', 'volD'] }),
  cli('volume list', 'volume list', ['volume', 'list'], 'ok', { sortRowsAfter: 1 }),
  cli('volume list', 'volume list --keyword A', ['volume', 'list', '--keyword', 'A'], 'ok', { sortRowsAfter: 1 }),
  cli('volume info', 'volume info volA', ['volume', 'info', 'volA'], 'ok'),
  cli('volume info', 'volume info volA -s', ['volume', 'info', 'volA', '-s'], 'ok'),
  cli('volume info', 'volume info volA -m', ['volume', 'info', 'volA', '-m'], 'ok'),
  cli('volume info', 'volume info volA -d', ['volume', 'info', 'volA', '-d'], 'ok'),
  cli('volume info', 'volume info volD -s -m -d', ['volume', 'info', 'volD', '-s', '-m', '-d'], 'ok'),
  cli('user info', 'user info alice (owns volA)', ['user', 'info', 'alice'], 'ok'),
  cli('user info', 'user info frank (created by volume create)', ['user', 'info', 'frank'], 'ok'),
  cli('metapartition info', 'metapartition info (first mp of volA)', ['metapartition', 'info', '{mp:volA:0}'], 'ok', { masks: [forbidV0Mask] }),
  cli('metapartition info', 'metapartition info (last mp of volA)', ['metapartition', 'info', '{mp:volA:2}'], 'ok', { masks: [forbidV0Mask] }),
  cli('datapartition info', 'datapartition info (first dp of volA)', ['datapartition', 'info', '{dp:volA:0}'], 'ok', { masks: dpInfoMasks }),
  cli('metapartition check', 'metapartition check', ['metapartition', 'check'], 'ok'),
  cli('datapartition check', 'datapartition check', ['datapartition', 'check'], 'ok'),
  cli('volume update', 'volume update volA --description --capacity', ['volume', 'update', 'volA', '--description', 'hello', '--capacity', '30', '-y'], 'ok'),
  cli('volume update', 'volume update: unknown zone', ['volume', 'update', 'volA', '--zone-name', 'nozone', '-y'], 'fail'),
  cli('volume update', 'volume update: replica-num 2', ['volume', 'update', 'volA', '--replica-num', '2', '-y'], 'fail'),
  cli('volume info', 'volume info volA (updated)', ['volume', 'info', 'volA'], 'ok'),
  cli('volume add-dp', 'volume add-dp volA 1', ['volume', 'add-dp', 'volA', '1'], 'ok'),
  cli('volume add-dp', 'volume add-dp: count 0', ['volume', 'add-dp', 'volA', '0'], 'fail'),
  cli('volume add-mp', 'volume add-mp volA 1', ['volume', 'add-mp', 'volA', '1'], 'ok'),
  cli('volume add-mp', 'volume add-mp: count 11', ['volume', 'add-mp', 'volA', '11'], 'fail'),
  setup('wait until the partitions of volA are listed, have leaders, no mp Unavailable, no dp ReadOnly', { do: 'waitPartitions', vols: ['volA'] }),
  cli('volume info', 'volume info volA -m -d (after add-dp, add-mp)', ['volume', 'info', 'volA', '-m', '-d'], 'ok'),
  cli('user create', 'user create carol', ['user', 'create', 'carol', '-y'], 'ok'),
  cli('user perm', 'user perm carol volA READONLY', ['user', 'perm', 'carol', 'volA', 'READONLY'], 'ok', { stdin: '\n' }),
  cli('user perm', 'user perm carol volA RW', ['user', 'perm', 'carol', 'volA', 'RW'], 'ok', { stdin: 'yes\n' }),
  cli('user info', 'user info carol (rw on volA)', ['user', 'info', 'carol'], 'ok'),
  cli('user perm', 'user perm carol volA NONE', ['user', 'perm', 'carol', 'volA', 'NONE'], 'ok', { stdin: '\n' }),
  cli('user perm', 'user perm: bad permission', ['user', 'perm', 'carol', 'volA', 'EXECUTE'], 'fail', { stdin: '\n' }),
  cli('volume transfer', 'volume transfer volA carol', ['volume', 'transfer', 'volA', 'carol', '-y'], 'ok'),
  cli('volume transfer', 'volume transfer: unknown user', ['volume', 'transfer', 'volA', 'nobody', '-y'], 'fail'),
  cli('volume list', 'volume list (volA owned by carol)', ['volume', 'list'], 'ok', { sortRowsAfter: 1 }),
  cli('user info', 'user info alice (after transfer)', ['user', 'info', 'alice'], 'ok'),
  cli('user info', 'user info carol (after transfer)', ['user', 'info', 'carol'], 'ok'),
  cli('volume delete', 'volume delete volD', ['volume', 'delete', 'volD', '-y'], 'ok'),
  cli('volume list', 'volume list (volD marked deleted)', ['volume', 'list'], 'ok', { sortRowsAfter: 1 }),
  cli('volume info', 'volume info volD (marked deleted)', ['volume', 'info', 'volD'], 'ok'),
  cli('volume transfer', 'volume transfer: vol marked deleted', ['volume', 'transfer', 'volD', 'carol', '-y'], 'fail'),
  cli('volume add-mp', 'volume add-mp: vol marked deleted', ['volume', 'add-mp', 'volD', '1'], 'ok'),
  cli('user delete', 'user delete: still owns a vol', ['user', 'delete', 'carol', '-y'], 'fail'),
  cli('user delete', 'user delete frank (his vol deleted)', ['user', 'delete', 'frank', '-y'], 'ok'),
  cli('cluster freeze', 'cluster freeze true (nodes)', ['cluster', 'freeze', 'true'], 'ok'),
  cli('cluster freeze', 'volume create while frozen', ['volume', 'create', 'volE', 'alice', ...VOL_SMALL], 'fail'),
  cli('cluster freeze', 'cluster freeze false (nodes)', ['cluster', 'freeze', 'false'], 'ok'),
  // Decommission last: it moves or marks partitions and nodes.
  cli('metapartition decommission', 'metapartition decommission (no other metanode)', ['metapartition', 'decommission', '{MN1}', '{mp:volA:0}'], 'fail'),
  cli('datapartition decommission', 'datapartition decommission (no other datanode)', ['datapartition', 'decommission', '{DN1}', '{dp:volA:0}'], 'ok'),
  cli('metanode decommission', 'metanode decommission (no other metanode)', ['metanode', 'decommission', '{MN1}'], 'fail', {
    masks: [maskPattern(/(partition\[)\d+\]/, 'the Go master names the first of its mps it meets in map order')],
  }),
  cli('datanode decommission', 'datanode decommission (no other datanode)', ['datanode', 'decommission', '{DN1}'], 'ok'),
  cli('metanode list', 'metanode list (after decommission)', ['metanode', 'list'], 'ok', { sortRowsAfter: 2 }),
  cli('datanode list', 'datanode list (after decommission)', ['datanode', 'list'], 'ok', { sortRowsAfter: 2 }),
];

/** Every command of spec section 8.1: the suite checks that each one has at least one case. */
export const SPEC_COMMANDS: readonly string[] = [
  'cluster info',
  'cluster stat',
  'cluster freeze',
  'volume list',
  'volume create',
  'volume info',
  'volume delete',
  'volume update',
  'volume add-dp',
  'volume add-mp',
  'volume transfer',
  'metanode list',
  'metanode info',
  'metanode decommission',
  'datanode list',
  'datanode info',
  'datanode decommission',
  'user create',
  'user info',
  'user delete',
  'user list',
  'user perm',
  'metapartition info',
  'metapartition check',
  'metapartition decommission',
  'datapartition info',
  'datapartition check',
  'datapartition decommission',
  'nodeset list',
  'nodeset info',
  'zone list',
  'zone info',
];
