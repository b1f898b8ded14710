// The interpreter behind the scenario tests: a set of cores over MemoryStorage, with a message
// queue the script delivers explicitly, so every step of the protocol shows in the trace.
// `log-level none` hides the Ready and message trace (for the set-up of a scenario); INFO lines,
// refusals and the printing commands (raft-state, raft-log, status, applied) always print;
// `log-level info` shows the trace again.
import {
  applyConfChange,
  bootstrapLog,
  ConfChangeType,
  decodeConfChange,
  describeConf,
  describeEntry,
  describeHardState,
  describeMessage,
  describeReady,
  describeSnapshot,
  EMPTY_CONF_STATE,
  EntryType,
  MemoryStorage,
  MessageType,
  RawNode,
  SeededRandom,
  type ConfState,
  type Message,
  type NodeId,
  type RaftLimits,
  type Ready,
} from '../../../src/raft/core/index.js';

type NodeLimits = Partial<Pick<RaftLimits, 'maxInflightMsgs' | 'maxSizePerMsgBytes' | 'maxUncommittedEntriesBytes'>>;

interface EnvNode {
  readonly id: NodeId;
  raw: RawNode;
  readonly storage: MemoryStorage;
  /** The state machine: the applied entries, described. */
  applied: string[];
  appliedIndex: number;
  /** The configuration after each applied conf entry (and after an installed snapshot), oldest first. */
  appliedConfs: { index: number; conf: ConfState }[];
}

interface StoredSnapshot {
  readonly applied: string[];
  readonly conf: ConfState;
}

const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 1;
const encoder = new TextEncoder();

export class InteractionEnv {
  private readonly nodes = new Map<NodeId, EnvNode>();
  private queue: Message[] = [];
  private readonly isolated = new Set<NodeId>();
  /** Snapshot data by "term/index", shared like a snapshot stream between members. */
  private readonly snapshots = new Map<string, StoredSnapshot>();
  private out: string[] = [];
  private verbose = true;

  run(line: string): string {
    this.out = [];
    const [command, ...rest] = tokenize(line);
    const args = parseArgs(rest);
    switch (command) {
      case 'add-nodes':
        this.addNodes(Number(args.positional[0]), args);
        break;
      case 'campaign':
        this.node(args.positional[0]).raw.campaign();
        break;
      case 'tick':
        this.tick(args.positional[0], Number(args.positional[1] ?? 1));
        break;
      case 'tick-election':
        this.tick(args.positional[0], ELECTION_TICK * 2);
        break;
      case 'tick-heartbeat':
        this.tick(args.positional[0], HEARTBEAT_TICK);
        break;
      case 'propose':
        this.attempt(() => this.node(args.positional[0]).raw.propose(args.positional.slice(1).map((d) => encoder.encode(d))));
        break;
      case 'propose-conf-change':
        this.proposeConfChange(args.positional);
        break;
      case 'read-index':
        this.attempt(() => this.node(args.positional[0]).raw.readIndex(args.positional[1]));
        break;
      case 'transfer-leader':
        this.attempt(() => this.node(args.named.get('from')![0]).raw.transferLeader(Number(args.named.get('to')![0])));
        break;
      case 'process-ready':
        for (const id of this.ids(args.positional)) this.processReady(this.node(id));
        break;
      case 'deliver-msgs':
        this.deliver(this.ids(args.positional), new Set((args.named.get('drop') ?? []).map(Number)));
        break;
      case 'stabilize':
        this.stabilize(this.ids(args.positional));
        break;
      case 'isolate':
        this.isolated.add(Number(args.positional[0]));
        break;
      case 'heal':
        this.isolated.clear();
        break;
      case 'compact':
        this.compact(this.node(args.positional[0]), Number(args.positional[1]));
        break;
      case 'lose-log':
        this.loseLog(this.node(args.positional[0]), Number(args.positional[1]));
        break;
      case 'restart':
        this.restart(this.node(args.positional[0]));
        break;
      case 'report-unreachable':
        this.node(args.positional[0]).raw.reportUnreachable(Number(args.positional[1]));
        break;
      case 'raft-log':
        this.printLog(this.node(args.positional[0]));
        break;
      case 'raft-state':
        this.printState();
        break;
      case 'status':
        this.printStatus(this.node(args.positional[0]));
        break;
      case 'applied':
        this.printApplied(this.node(args.positional[0]));
        break;
      case 'log-level':
        this.verbose = args.positional[0] !== 'none';
        break;
      default:
        throw new Error(`unknown command ${command}`);
    }
    return this.out.join('\n');
  }

  private addNodes(count: number, args: ParsedArgs): void {
    const voters = (args.named.get('voters') ?? []).map(Number);
    const preVote = (args.named.get('prevote') ?? ['true'])[0] !== 'false';
    const limit = (name: string): number | undefined => (args.named.has(name) ? Number(args.named.get(name)![0]) : undefined);
    const limits: NodeLimits = { maxInflightMsgs: limit('max-inflight') ?? 4, maxSizePerMsgBytes: limit('max-msg-size'), maxUncommittedEntriesBytes: limit('max-uncommitted') };
    for (let k = 0; k < count; k++) {
      const id = this.nodes.size + 1;
      const storage = new MemoryStorage();
      if (voters.length > 0) {
        const boot = bootstrapLog(voters);
        storage.append(boot.entries);
        storage.setHardState(boot.hardState);
      }
      const raw = this.newRawNode(id, storage, 0, preVote, limits);
      const node: EnvNode = { id, raw, storage, applied: [], appliedIndex: 0, appliedConfs: [{ index: 0, conf: EMPTY_CONF_STATE }] };
      this.nodes.set(id, node);
      this.out.push(`INFO ${id} created: ${describeConf(node.raw.status().conf)} ${describeHardState(storage.hardState())} LastIndex:${storage.lastIndex()}`);
    }
  }

  private newRawNode(id: NodeId, storage: MemoryStorage, applied: number, preVote: boolean, limits: NodeLimits): RawNode {
    // A fixed seed per member: the randomized timeouts replay exactly.
    return RawNode.create({ id, storage, random: new SeededRandom(id), electionTick: ELECTION_TICK, heartbeatTick: HEARTBEAT_TICK, applied, preVote, ...limits });
  }

  private tick(idText: string, count: number): void {
    const node = this.node(idText);
    for (let i = 0; i < count; i++) node.raw.tick();
  }

  private proposeConfChange(positional: string[]): void {
    const node = this.node(positional[0]);
    const types: Record<string, ConfChangeType> = { 'add-voter': ConfChangeType.AddVoter, 'add-learner': ConfChangeType.AddLearner, remove: ConfChangeType.RemoveNode };
    const type = types[positional[1]];
    if (type === undefined) throw new Error(`unknown conf change ${positional[1]}`);
    this.attempt(() => node.raw.proposeConfChange({ type, nodeId: Number(positional[2]), context: new Uint8Array(0) }));
  }

  private attempt(action: () => unknown): void {
    try {
      action();
    } catch (error) {
      if (!(error instanceof Error) || !('code' in error)) throw error;
      this.out.push(`rejected: ${error.name}: ${error.message}`);
    }
  }

  /** Handles one Ready the way a driver must: persist, send, apply, advance. */
  private processReady(node: EnvNode): boolean {
    if (!node.raw.hasReady()) return false;
    const ready = node.raw.ready();
    this.trace(`> ${node.id} handling Ready`);
    this.trace(describeReady(ready, '  '));
    this.persist(node, ready);
    this.queue.push(...ready.leaderMessages, ...ready.messages);
    this.apply(node, ready);
    node.raw.advance();
    return true;
  }

  private persist(node: EnvNode, ready: Ready): void {
    if (ready.snapshot !== null) {
      const data = this.snapshots.get(`${ready.snapshot.term}/${ready.snapshot.index}`);
      if (data === undefined) throw new Error(`snapshot ${ready.snapshot.term}/${ready.snapshot.index} has no data`);
      node.storage.applySnapshot(ready.snapshot);
      node.applied = data.applied.slice();
      node.appliedIndex = ready.snapshot.index;
      node.appliedConfs = [{ index: ready.snapshot.index, conf: ready.snapshot.conf }];
    }
    node.storage.append(ready.entries);
    if (ready.hardState !== null) node.storage.setHardState(ready.hardState);
  }

  private apply(node: EnvNode, ready: Ready): void {
    for (const e of ready.committedEntries) {
      node.applied.push(describeEntry(e));
      node.appliedIndex = e.index;
      if (e.type === EntryType.ConfChange) {
        node.appliedConfs.push({ index: e.index, conf: applyConfChange(confAt(node, e.index), decodeConfChange(e.data)) });
      }
    }
  }

  private deliver(ids: NodeId[], drop: ReadonlySet<NodeId>): boolean {
    const wanted = new Set(ids);
    const now = this.queue.filter((m) => wanted.has(m.to));
    if (now.length === 0) return false;
    this.queue = this.queue.filter((m) => !wanted.has(m.to));
    for (const m of now) {
      const target = this.nodes.get(m.to);
      if (target === undefined || drop.has(m.to) || drop.has(m.from) || this.isolated.has(m.to) || this.isolated.has(m.from)) {
        this.trace(`dropped: ${describeMessage(m)}`);
        continue;
      }
      this.trace(describeMessage(m));
      target.raw.step(m);
      if (m.type === MessageType.Snap) {
        // The stream finished: tell the sender, as the driver does after the last chunk.
        this.nodes.get(m.from)?.raw.reportSnapshot(m.to, true);
      }
    }
    return true;
  }

  private stabilize(ids: NodeId[]): void {
    for (let round = 0; round < 1000; round++) {
      let progressed = false;
      for (const id of ids) progressed = this.processReady(this.nodes.get(id)!) || progressed;
      progressed = this.deliver(ids, new Set()) || progressed;
      if (!progressed) return;
    }
    throw new Error('stabilize did not converge in 1000 rounds');
  }

  private compact(node: EnvNode, index: number): void {
    if (index > node.appliedIndex) throw new Error(`compact ${index} beyond applied ${node.appliedIndex}`);
    // The state machine's state at `index`: what was applied up to it.
    const keep = node.applied.length - (node.appliedIndex - index);
    const term = node.storage.term(index);
    // The snapshot's configuration is the one in force at `index`, not at the applied index.
    const conf = confAt(node, index);
    node.storage.compact(index, conf);
    this.snapshots.set(`${term}/${index}`, { applied: node.applied.slice(0, keep), conf });
    this.out.push(`INFO ${node.id} compacted to ${term}/${index}, first index ${node.storage.firstIndex()}`);
  }

  /**
   * The disk loses every entry after `index` (it lied about fsync), and the state machine on the
   * same disk the entries it applied after it; then the member restarts.
   */
  private loseLog(node: EnvNode, index: number): void {
    node.storage.truncateAfter(index);
    if (node.appliedIndex > index) {
      node.applied.length -= node.appliedIndex - index;
      node.appliedIndex = index;
    }
    this.restart(node);
  }

  /** A crash and restart: whatever was not persisted (unstable entries, messages) is lost. */
  private restart(node: EnvNode): void {
    this.queue = this.queue.filter((m) => m.from !== node.id && m.to !== node.id);
    const r = node.raw.raft;
    node.raw = this.newRawNode(node.id, node.storage, node.appliedIndex, r.preVote, r.limits);
    this.out.push(`INFO ${node.id} restarted: ${describeHardState(node.storage.hardState())} LastIndex:${node.storage.lastIndex()} Applied:${node.appliedIndex}`);
  }

  private printLog(node: EnvNode): void {
    const first = node.storage.firstIndex();
    const last = node.storage.lastIndex();
    const snapshot = node.storage.snapshot();
    if (snapshot.index > 0) this.out.push(`snapshot ${describeSnapshot(snapshot)}`);
    if (first > last) this.out.push('log is empty: first index=' + first + ', last index=' + last);
    else for (const e of node.storage.entries(first, last + 1, Infinity)) this.out.push(describeEntry(e));
  }

  private printState(): void {
    for (const node of this.nodes.values()) {
      const s = node.raw.status();
      const isolated = this.isolated.has(node.id) ? ' (isolated)' : '';
      this.out.push(`${node.id}: ${roleName(s.role)} Term:${s.term} Lead:${s.lead} Commit:${s.commit} Applied:${s.applied} LastIndex:${s.lastIndex} ${describeConf(s.conf)}${isolated}`);
    }
  }

  private printStatus(node: EnvNode): void {
    const s = node.raw.status();
    for (const [id, pr] of [...s.progress].sort((a, b) => a[0] - b[0])) {
      const inflight = pr.inflightMsgs > 0 ? ` inflight=${pr.inflightMsgs}` : '';
      this.out.push(`${id}: ${pr.state} match=${pr.match} next=${pr.next}${inflight}${pr.recentActive ? '' : ' inactive'}`);
    }
    if (s.progress.size === 0) this.out.push(`${node.id} is not leader (lead ${s.lead})`);
  }

  private printApplied(node: EnvNode): void {
    this.out.push(`applied index ${node.appliedIndex}: ${node.applied.join(', ')}`);
  }

  private trace(line: string): void {
    if (this.verbose) this.out.push(line);
  }

  private ids(positional: string[]): NodeId[] {
    return positional.length > 0 ? positional.map(Number) : [...this.nodes.keys()];
  }

  private node(idText: string | number): EnvNode {
    const node = this.nodes.get(Number(idText));
    if (node === undefined) throw new Error(`no node ${idText}`);
    return node;
  }
}

/** The configuration the state machine of `node` had after applying `index`. */
function confAt(node: EnvNode, index: number): ConfState {
  let conf = node.appliedConfs[0].conf;
  for (const c of node.appliedConfs) if (c.index <= index) conf = c.conf;
  return conf;
}

function roleName(role: string): string {
  return role[0].toUpperCase() + role.slice(1);
}

interface ParsedArgs {
  readonly positional: string[];
  readonly named: Map<string, string[]>;
}

/** Splits a command line into words, keeping "(1 2 3)" groups together. */
function tokenize(line: string): string[] {
  const tokens: string[] = [];
  const re = /\S+=\([^)]*\)|\S+/g;
  for (const match of line.matchAll(re)) tokens.push(match[0]);
  return tokens;
}

/** `key=value` or `key=(v1 v2)` are named; everything else is positional. */
function parseArgs(tokens: string[]): ParsedArgs {
  const positional: string[] = [];
  const named = new Map<string, string[]>();
  for (const token of tokens) {
    const eq = token.indexOf('=');
    if (eq <= 0) {
      positional.push(token);
      continue;
    }
    const value = token.slice(eq + 1);
    named.set(token.slice(0, eq), value.startsWith('(') ? value.slice(1, -1).split(/\s+/).filter(Boolean) : [value]);
  }
  return { positional, named };
}
