// `cubemaster status` and `cubemaster members list|add|promote|remove|transfer-leader`: the
// master group as its leader sees it, each member's own Raft position, and the membership
// changes an operator makes when replacing a dead master (docs/cli.md). A new master joins as a
// learner, catches up (a progress bar: its match index against the leader's commit), and only
// then becomes a voter, so a slow or unreachable newcomer never costs the group its quorum.
import type { Command } from 'commander';
import { adminAction, withClientOptions, type AdminContext } from './context.js';
import { UsageError, WaitTimeoutError } from './errors.js';
import { table } from './output.js';
import { parseCount, sleep } from './parse.js';

export interface MemberView {
  readonly id: number;
  readonly httpAddr: string;
  readonly raftAddr: string;
  readonly learner: boolean;
  readonly match: number | null;
}

export interface MembersView {
  readonly leaderId: number;
  readonly term: number;
  readonly commit: number;
  readonly members: readonly MemberView[];
}

/** /cubemaster/status of one member (its own view). */
interface MemberStatus {
  readonly nodeId: number;
  readonly role: string;
  readonly term: number;
  readonly leaderId: number;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly stopping: boolean;
}

interface MemberRow extends MemberView {
  readonly status: MemberStatus | null;
  readonly error: string | null;
}

const CATCH_UP_POLL_MS = 200;
const DEFAULT_CATCH_UP_WAIT_MS = 600_000;

export function registerMembersCommands(program: Command): void {
  withClientOptions(program.command('status'))
    .description('the master group: leader, term, commit, and each member\'s role, applied index and lag')
    .action(adminAction(status));

  const members = program.command('members').description('list and change the master group (add, promote, remove, transfer leadership)');
  withClientOptions(members.command('list'))
    .description('every member with its role, applied index and lag behind the leader')
    .action(adminAction(async (ctx) => printMembers(ctx, await memberRows(ctx))));
  withClientOptions(members.command('add <id> <addr>'))
    .description('add a master (addr = its HTTP host:port) as a learner, wait until it caught up, then make it a voter (signed by root)')
    .option('--raft-addr <host:port>', "its Raft address (default: addr's host with the cluster's replicaPort)")
    .option('--learner-only', 'stop after adding the learner (promote it later)')
    .option('--wait-ms <ms>', `bound on waiting for it to catch up (default ${DEFAULT_CATCH_UP_WAIT_MS})`)
    .action(adminAction(addMember));
  withClientOptions(members.command('promote <id>'))
    .description('make a learner a voter once it caught up (signed by root)')
    .option('--wait-ms <ms>', `bound on waiting for it to catch up (default ${DEFAULT_CATCH_UP_WAIT_MS})`)
    .action(adminAction(async (ctx, id: string, options: { waitMs?: string }) => promote(ctx, parseMemberId(id), waitMs(options))));
  withClientOptions(members.command('remove <id>'))
    .description('remove a master from the group; the leader hands leadership over first (signed by root)')
    .action(adminAction(removeMember));
  withClientOptions(members.command('transfer-leader [id]'))
    .description('move leadership to member id (default: the most up-to-date voter) (signed by root)')
    .action(adminAction(transferLeader));
}

async function status(ctx: AdminContext): Promise<void> {
  const rows = await memberRows(ctx);
  const view = rows.view;
  const leader = view.members.find((m) => m.id === view.leaderId);
  ctx.out.result({ leaderId: view.leaderId, leaderAddr: leader?.httpAddr ?? '', term: view.term, commit: view.commit, members: rows.rows.map(jsonRow) }, () => {
    const head = `leader ${view.leaderId} (${leader?.httpAddr ?? '?'})  term ${view.term}  commit ${view.commit}  members ${view.members.length}\n\n`;
    return head + membersTable(rows.rows, view.commit);
  });
}

/** The leader's view of the group, and each member's own status (asked of each member). */
async function memberRows(ctx: AdminContext): Promise<{ view: MembersView; rows: MemberRow[] }> {
  const view = await ctx.client.call<MembersView>('/cubemaster/members');
  const rows = await Promise.all(
    view.members.map(async (m): Promise<MemberRow> => {
      try {
        const s = await ctx.client.call<MemberStatus>('/cubemaster/status', { member: m.httpAddr, timeoutMs: 5_000 });
        return { ...m, status: s, error: null };
      } catch (error) {
        return { ...m, status: null, error: (error as Error).message };
      }
    }),
  );
  return { view, rows: rows.sort((a, b) => a.id - b.id) };
}

function printMembers(ctx: AdminContext, { view, rows }: { view: MembersView; rows: MemberRow[] }): void {
  ctx.out.result(rows.map(jsonRow), () => membersTable(rows, view.commit));
}

function jsonRow(r: MemberRow) {
  return { id: r.id, httpAddr: r.httpAddr, raftAddr: r.raftAddr, learner: r.learner, match: r.match, status: r.status, error: r.error };
}

function membersTable(rows: readonly MemberRow[], commit: number): string {
  return table(rows, [
    { header: 'ID', value: (r) => r.id, align: 'right' },
    { header: 'HTTP', value: (r) => r.httpAddr },
    { header: 'RAFT', value: (r) => r.raftAddr },
    { header: 'VOTE', value: (r) => (r.learner ? 'learner' : 'voter') },
    { header: 'ROLE', value: (r) => (r.status === null ? 'unreachable' : r.status.stopping ? `${r.status.role} (stopping)` : r.status.role) },
    { header: 'TERM', value: (r) => r.status?.term, align: 'right' },
    { header: 'APPLIED', value: (r) => r.status?.applied, align: 'right' },
    { header: 'MATCH', value: (r) => r.match, align: 'right' },
    { header: 'LAG', value: (r) => (r.status === null ? null : Math.max(0, commit - r.status.applied)), align: 'right' },
  ]);
}

async function addMember(ctx: AdminContext, idText: string, addr: string, options: { raftAddr?: string; learnerOnly?: boolean; waitMs?: string }): Promise<void> {
  const id = parseMemberId(idText);
  if (!/^[^:\s]+:\d{1,5}$/.test(addr)) throw new UsageError(`addr must be host:port (the new master's HTTP address), got "${addr}"`);
  const view = await ctx.client.call<MembersView>('/cubemaster/members/learner', {
    method: 'POST',
    signed: true,
    query: { id, addr, raftAddr: options.raftAddr },
  });
  ctx.out.note(`master ${id} (${addr}) added as a learner`);
  if (options.learnerOnly === true) {
    ctx.out.result(view, () => `master ${id} is a learner; promote it with: cubemaster members promote ${id}\n`);
    return;
  }
  await promote(ctx, id, waitMs(options));
}

/** Waits (with progress) until the learner caught up, then asks the leader to promote it. */
async function promote(ctx: AdminContext, id: number, waitMs: number): Promise<void> {
  await waitCaughtUp(ctx, id, waitMs);
  const view = await ctx.client.call<MembersView>('/cubemaster/members/promote', { method: 'POST', signed: true, query: { id, waitMs: 30_000 }, timeoutMs: 60_000 });
  ctx.out.result(view, () => `master ${id} is a voter\n`);
}

async function waitCaughtUp(ctx: AdminContext, id: number, waitMs: number): Promise<void> {
  const progress = ctx.progress({ label: `master ${id} catching up`, unit: 'entries' });
  const deadline = Date.now() + waitMs;
  let first: number | null = null;
  for (;;) {
    const view = await ctx.client.call<MembersView>('/cubemaster/members');
    const member = view.members.find((m) => m.id === id);
    if (member === undefined) throw new UsageError(`master ${id} is not a member of the group`);
    if (!member.learner) {
      progress.finish(view.commit, view.commit, '(a voter already)');
      return;
    }
    const match = member.match ?? 0;
    first ??= match;
    // Progress over what it had to fetch since we started watching.
    const done = Math.max(0, match - first);
    const total = Math.max(1, view.commit - first);
    if (match >= view.commit) {
      progress.finish(total, total, `match ${match} = commit ${view.commit}`);
      return;
    }
    progress.update(done, total, `match ${match}, commit ${view.commit}`);
    if (Date.now() > deadline) {
      throw new WaitTimeoutError(
        `master ${id} did not catch up within ${waitMs} ms (match ${match}, commit ${view.commit}); it stays a learner: promote it later (cubemaster members promote ${id}) or remove it`,
      );
    }
    await sleep(CATCH_UP_POLL_MS);
  }
}

async function removeMember(ctx: AdminContext, idText: string): Promise<void> {
  const id = parseMemberId(idText);
  const before = await ctx.client.call<MembersView>('/cubemaster/members');
  if (!before.members.some((m) => m.id === id)) throw new UsageError(`master ${id} is not a member of the group`);
  if (before.leaderId === id) {
    // A leader that removes itself leaves the group leaderless for an election timeout.
    const moved = await ctx.client.call<{ leaderId: number }>('/cubemaster/leader/transfer', { method: 'POST', signed: true, query: { target: 0 } });
    ctx.out.note(`leadership moved from master ${id} to master ${moved.leaderId}`);
  }
  const view = await ctx.client.call<MembersView>('/cubemaster/members/remove', { method: 'POST', signed: true, query: { id } });
  ctx.out.result(view, () => `master ${id} removed; the group is ${view.members.map((m) => `${m.id}${m.learner ? ' (learner)' : ''}`).join(', ')}\n`);
}

async function transferLeader(ctx: AdminContext, idText: string | undefined): Promise<void> {
  const target = idText === undefined ? 0 : parseMemberId(idText);
  const moved = await ctx.client.call<{ leaderId: number }>('/cubemaster/leader/transfer', { method: 'POST', signed: true, query: { target } });
  ctx.out.result(moved, () => `master ${moved.leaderId} leads\n`);
}

function parseMemberId(text: string): number {
  const id = parseCount('id', text);
  if (id === 0) throw new UsageError('id must be a master id > 0');
  return id;
}

function waitMs(options: { waitMs?: string }): number {
  return options.waitMs === undefined ? DEFAULT_CATCH_UP_WAIT_MS : parseCount('--wait-ms', options.waitMs);
}
