// What SimMetaNode and SimDataNode share: the TCP packet server, registration with the masters,
// the /…/response POSTs, fault injection, an event log, and one lifetime that close() ends.
//
// Registration as the real nodes do it (spec/node-protocol.md 1, observed order):
// GET /admin/getIp, GET /admin/getUpgradeCompatibleSettings, GET /metaNode/add or /dataNode/add,
// then the self-check GET /metaNode/get or /dataNode/get (the datanode refuses to start when it
// fails 3 times; the metanode only logs). Each step is retried a bounded number of times.
//
// With a state file the node survives a restart as real nodes do (sim-state-file.ts): it keeps
// its port and partitions, registers again, and, as metanode loadPartitions and datanode
// RestorePartition do, sets aside every partition the self-check's Persistence*Partitions does
// not list (an empty list sets aside all of them). A partition whose member list names this
// node under another id than the one registration gave is recorded: a real node's raft group
// would not know it (docs/recovery.md).

import { stringifyJson } from '../../util/json.js';
import { decodeAdminTask, type AdminTask } from '../admin-task.js';
import { NodeMessageError, PacketDecodeError } from '../errors.js';
import { opcodeName } from '../opcodes.js';
import { makeReply, ResultCode, type Packet } from '../packet.js';
import type { NodeKind } from '../task-requests.js';
import { DEFAULT_FAULT_MESSAGE, FaultPlan, type SimTaskInfo } from './faults.js';
import { MasterApiError, MasterHttpClient, type MasterHttpClientOptions } from './master-http-client.js';
import { SimPacketServer, type SimReply } from './packet-server.js';
import { readSimState, writeSimState } from './sim-state-file.js';
import type { JsonObject } from '../json-fields.js';

export interface SimNodeOptions {
  /** host:port of every master, tried in order (Go SDK). */
  readonly masterAddrs: readonly string[];
  /** Registered zone; '' = default. */
  readonly zoneName?: string;
  /** TCP port to listen on (127.0.0.1); 0 = any free port. */
  readonly port?: number;
  /**
   * The IP the packet server binds instead of 127.0.0.1, on the same port; the registered
   * address stays 127.0.0.1:<port>, where something else (the chaos suite's task proxy, which
   * cuts the leader's links to the nodes) listens and relays. Default 127.0.0.1.
   */
  readonly listenHost?: string;
  /** Raft ports reported at registration (nothing listens on them). Default: listen port + 20 / + 21. */
  readonly heartbeatPort?: string;
  readonly replicaPort?: string;
  readonly httpTimeoutMs?: number;
  /** Tries of each registration step, and the pause between them. */
  readonly registerTriesMax?: number;
  readonly registerRetryDelayMs?: number;
  /** Do the /…/get self-check after add, as real nodes do. Default true. */
  readonly selfCheck?: boolean;
  /** Events kept (oldest dropped first). */
  readonly eventLogMax?: number;
  readonly userAgent?: string;
  /** The masters serve HTTPS: connect with these (ca to trust, cert + key when they ask for a client certificate). */
  readonly masterTls?: MasterHttpClientOptions['tls'];
  /**
   * Where the node keeps its partitions across restarts (a JSON file). A node started with an
   * existing file takes its port and partitions back; see the header.
   */
  readonly stateFile?: string;
}

export type SimEvent =
  | {
      readonly type: 'task';
      readonly atMs: number;
      readonly opCode: number;
      readonly op: string;
      readonly partitionId: number;
      readonly taskId: string;
      readonly reqId: bigint;
      readonly request: unknown;
      /** What the node did: 'ok', or the failure text it answered with. */
      readonly outcome: string;
    }
  | { readonly type: 'protocol-error'; readonly atMs: number; readonly remote: string; readonly error: PacketDecodeError | NodeMessageError }
  | { readonly type: 'registered'; readonly atMs: number; readonly nodeId: number; readonly masterAddr: string }
  | { readonly type: 'response-posted'; readonly atMs: number; readonly opCode: number; readonly taskId: string; readonly error: string | null }
  | { readonly type: 'warning'; readonly atMs: number; readonly message: string }
  | { readonly type: 'expired'; readonly atMs: number; readonly partitionIds: readonly number[] }
  | { readonly type: 'identity-mismatch'; readonly atMs: number; readonly partitionId: number; readonly raftId: number; readonly registeredId: number };

export type SimNodeState = 'new' | 'running' | 'crashed' | 'closed';

/** The task a subclass handles: the packet, the decoded AdminTask, and the injected failure. */
export interface SimTaskContext {
  readonly packet: Packet;
  readonly task: AdminTask;
  /** Non-null when a fault rule made this task fail. */
  readonly injectedFailure: string | null;
}

export abstract class SimNode {
  abstract readonly kind: NodeKind;
  protected readonly o: SimNodeOptions;
  protected readonly master: MasterHttpClient;
  private readonly faults = new FaultPlan();
  private readonly server: SimPacketServer;
  private readonly log: SimEvent[] = [];
  private readonly background = new Set<Promise<void>>();
  /** Aborted by crash()/close(): ends delays and registration pauses. */
  protected readonly lifetime = new AbortController();
  private port = 0;
  private id = 0;
  private stateNow: SimNodeState = 'new';
  private stopPromise: Promise<void> | null = null;
  private readonly startedAtMs = Date.now();
  /** Partitions set aside at a restart (kept in the state file, never reported). */
  private expired: JsonObject[] = [];

  constructor(options: SimNodeOptions) {
    this.o = options;
    this.master = new MasterHttpClient({ masterAddrs: options.masterAddrs, requestTimeoutMs: options.httpTimeoutMs, userAgent: options.userAgent, tls: options.masterTls });
    this.server = new SimPacketServer({
      handler: (packet, remote) => this.onPacket(packet, remote),
      onProtocolError: (error, remote) => this.record({ type: 'protocol-error', atMs: this.nowMs(), remote, error }),
      onBackground: (work) => this.own(work),
    });
  }

  /** "127.0.0.1:<port>", the address registered with the master (valid after start()). */
  get addr(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The node ID the master gave (valid after start()). */
  get nodeId(): number {
    return this.id;
  }

  get state(): SimNodeState {
    return this.stateNow;
  }

  get zoneName(): string {
    return this.o.zoneName ?? '';
  }

  get heartbeatPort(): string {
    return this.o.heartbeatPort ?? String(((this.port + 19) % 65535) + 1);
  }

  get replicaPort(): string {
    return this.o.replicaPort ?? String(((this.port + 20) % 65535) + 1);
  }

  /** Every event kept, oldest first. */
  events(): readonly SimEvent[] {
    return [...this.log];
  }

  /** The tasks received, oldest first. */
  tasks(): Extract<SimEvent, { type: 'task' }>[] {
    return this.log.filter((e): e is Extract<SimEvent, { type: 'task' }> => e.type === 'task');
  }

  /** Partitions whose member list names this node under another id than its registration gave. */
  identityMismatches(): Extract<SimEvent, { type: 'identity-mismatch' }>[] {
    return this.log.filter((e): e is Extract<SimEvent, { type: 'identity-mismatch' }> => e.type === 'identity-mismatch');
  }

  /** Ids of the partitions set aside at a restart because the master did not list them. */
  expiredPartitionIds(): number[] {
    return this.expired.map((p) => Number(p['partitionId'])).sort((a, b) => a - b);
  }

  /**
   * Listens, then registers with the masters. Rejects (after closing) when registration fails.
   * With a state file that exists: its port and partitions first, the restart checks after.
   */
  async start(): Promise<void> {
    if (this.stateNow !== 'new') throw new Error(`SimNode.start: state is ${this.stateNow}`);
    const saved = this.o.stateFile === undefined ? null : readSimState(this.o.stateFile, this.kind);
    if (saved !== null) {
      this.restorePartitions(saved.partitions);
      this.expired = [...saved.expired];
    }
    const port = this.o.port ?? saved?.port ?? 0;
    this.stateNow = 'running';
    try {
      if (saved !== null && port !== 0) {
        // A real node registers and loads its partitions before it serves (metanode and
        // datanode doStart): it answers no task while a master holds its registration back.
        this.port = port;
        const info = await this.register(saved.partitions.length > 0);
        this.afterRestart(info);
        await this.server.listen(this.o.listenHost ?? '127.0.0.1', port);
      } else {
        this.port = await this.server.listen(this.o.listenHost ?? '127.0.0.1', port);
        this.persist();
        await this.register(false);
      }
    } catch (e) {
      await this.close();
      throw e;
    }
  }

  // ---- fault injection ----

  /** The next `count` tasks with `opCode` fail (see faults.ts for how each kind of op fails). */
  failNext(opCode: number, count = 1, message = DEFAULT_FAULT_MESSAGE): void {
    this.faults.failNext(opCode, count, message);
  }

  /** Tasks matching `predicate` fail until the returned function is called. */
  failWhen(predicate: (task: SimTaskInfo) => boolean, message = DEFAULT_FAULT_MESSAGE): () => void {
    return this.faults.failWhen(predicate, message);
  }

  /** Replies to `opCode` wait `ms` (0 = no delay). */
  delayMs(opCode: number, ms: number): void {
    this.faults.delay(opCode, ms);
  }

  /** Stops answering (replies are held, sockets stay open) until resume(). */
  pause(): void {
    this.server.pause();
  }

  resume(): void {
    this.server.resume();
  }

  /** Dies: the port closes (connections are refused), sockets and HTTP calls are cut. */
  crash(): Promise<void> {
    return this.stop('crashed');
  }

  /** Stops everything this node owns; idempotent. */
  close(): Promise<void> {
    return this.stop('closed');
  }

  // ---- for subclasses ----

  /** Handles one decoded task; returns the reply (and any after-work). */
  protected abstract handleTask(ctx: SimTaskContext): Promise<SimReply>;

  /** "/metaNode/add?..." or "/dataNode/add?..." */
  protected abstract addPath(): string;

  protected abstract selfCheckPath(): string;

  /** Whether a failed self-check stops the start (datanode: yes). */
  protected abstract selfCheckRequired(): boolean;

  protected abstract responsePath(): string;

  /** `PersistenceMetaPartitions` or `PersistenceDataPartitions`: the self-check's list of what to keep. */
  protected abstract persistenceListKey(): string;

  /** Every partition, as the state file holds it. */
  protected abstract encodePartitions(): JsonObject[];

  protected abstract restorePartitions(saved: readonly JsonObject[]): void;

  /** Removes the partitions `keep` refuses; returns them encoded. */
  protected abstract setAside(keep: (partitionId: number) => boolean): JsonObject[];

  /** Per partition: the raft id its member list gives this node's addr (undefined: not a member). */
  protected abstract memberIds(): { readonly partitionId: number; readonly raftId: number | undefined }[];

  /** Saves the partitions to the state file (if any): call after every change. */
  protected persist(): void {
    if (this.o.stateFile === undefined || this.port === 0) return;
    writeSimState(this.o.stateFile, { kind: this.kind, port: this.port, partitions: this.encodePartitions(), expired: this.expired });
  }

  /** A raw query value as the Go SDK sends it: escaped, but ':' kept (addr=127.0.0.1:17210). */
  protected static queryValue(v: string): string {
    return encodeURIComponent(v).replace(/%3A/gi, ':');
  }

  protected nowMs(): number {
    return Date.now();
  }

  protected nowSec(): number {
    return Math.floor(Date.now() / 1000);
  }

  protected get startTimeSec(): number {
    return Math.floor(this.startedAtMs / 1000);
  }

  /** POSTs `task` (Response filled) to /metaNode/response or /dataNode/response. */
  protected async postResponse(task: AdminTask): Promise<void> {
    let error: string | null = null;
    try {
      await this.master.post(this.responsePath(), stringifyJson(task));
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    this.record({ type: 'response-posted', atMs: this.nowMs(), opCode: task.OpCode, taskId: task.ID, error });
  }

  protected warn(message: string): void {
    this.record({ type: 'warning', atMs: this.nowMs(), message });
  }

  // ---- internals ----

  private record(event: SimEvent): void {
    this.log.push(event);
    const max = this.o.eventLogMax ?? 1000;
    if (this.log.length > max) this.log.splice(0, this.log.length - max);
  }

  private own(work: Promise<void>): void {
    const tracked = work.catch((e: unknown) => this.warn(`background work failed: ${e instanceof Error ? e.message : String(e)}`));
    this.background.add(tracked);
    void tracked.finally(() => this.background.delete(tracked));
  }

  private async onPacket(packet: Packet, remote: string): Promise<SimReply> {
    let task: AdminTask;
    try {
      task = decodeAdminTask(packet.data);
    } catch (e) {
      // A real node answers an undecodable AdminTask with OpErr and the decoder's text.
      const error = e instanceof NodeMessageError ? e : new NodeMessageError('', String(e));
      this.record({ type: 'protocol-error', atMs: this.nowMs(), remote, error });
      return { reply: makeReply(packet, ResultCode.Err, Buffer.from(`${opcodeName(packet.opcode)}: unmarshal AdminTask: ${error.message}`)) };
    }
    const info: SimTaskInfo = { opCode: packet.opcode, partitionId: Number(packet.partitionId), taskId: task.ID, request: task.Request };
    const injectedFailure = this.faults.failureFor(info);
    const delay = this.faults.delayFor(packet.opcode);
    if (delay > 0) await this.sleep(delay);
    let result: SimReply;
    try {
      result = await this.handleTask({ packet, task, injectedFailure });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      result = { reply: makeReply(packet, ResultCode.Err, Buffer.from(message)) };
    }
    const reply = result.reply;
    const outcome = reply !== null && reply.resultCode !== ResultCode.OK ? Buffer.from(reply.data).toString('utf8') || 'failed' : (injectedFailure ?? 'ok');
    this.record({
      type: 'task',
      atMs: this.nowMs(),
      opCode: packet.opcode,
      op: opcodeName(packet.opcode),
      partitionId: info.partitionId,
      taskId: task.ID,
      reqId: packet.reqId,
      request: task.Request,
      outcome,
    });
    return result;
  }

  /** A delay that ends (rejecting) when the node stops. */
  protected sleep(ms: number): Promise<void> {
    const signal = this.lifetime.signal;
    return new Promise<void>((resolve, reject) => {
      if (signal.aborted) {
        reject(new Error('node stopped'));
        return;
      }
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new Error('node stopped'));
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** What a real node does after it registered with partitions on disk (see the header). */
  private afterRestart(info: unknown): void {
    const listed = new Set<number>();
    const list = typeof info === 'object' && info !== null ? (info as Record<string, unknown>)[this.persistenceListKey()] : undefined;
    if (Array.isArray(list)) for (const id of list as unknown[]) if (typeof id === 'number' || typeof id === 'bigint') listed.add(Number(id));
    const dropped = this.setAside((id) => listed.has(id));
    if (dropped.length > 0) {
      this.expired.push(...dropped);
      this.record({ type: 'expired', atMs: this.nowMs(), partitionIds: dropped.map((p) => Number(p['partitionId'])) });
    }
    for (const m of this.memberIds()) {
      if (m.raftId !== undefined && m.raftId !== this.id) {
        this.record({ type: 'identity-mismatch', atMs: this.nowMs(), partitionId: m.partitionId, raftId: m.raftId, registeredId: this.id });
      }
    }
    this.persist();
  }

  /** Registers; resolves with the self-check's node info (null when it failed and may). */
  private async register(selfCheckRequired: boolean): Promise<unknown> {
    await this.step('/admin/getIp', async () => {
      const info = await this.master.get('/admin/getIp');
      const ip = typeof info === 'object' && info !== null ? (info as { Ip?: unknown }).Ip : undefined;
      // The datanode refuses a non-IPv4 Ip (and retries); the sim checks it for both kinds.
      if (typeof ip !== 'string' || !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new Error(`/admin/getIp: Ip ${JSON.stringify(ip)} is not IPv4`);
    });
    await this.step('/admin/getUpgradeCompatibleSettings', async () => {
      try {
        await this.master.get('/admin/getUpgradeCompatibleSettings');
      } catch (e) {
        // An envelope error means "not supported": the node uses defaults. Transport errors retry.
        if (!(e instanceof MasterApiError)) throw e;
        this.warn(`getUpgradeCompatibleSettings: ${e.message}; using defaults`);
      }
    });
    const id = await this.step(this.addPath().split('?')[0], async () => {
      const data = await this.master.get(this.addPath());
      const n = typeof data === 'bigint' ? Number(data) : data;
      if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) throw new Error(`${this.addPath().split('?')[0]}: data ${String(data)} is not a node id`);
      return n;
    });
    this.id = id;
    this.record({ type: 'registered', atMs: this.nowMs(), nodeId: id, masterAddr: this.master.leaderAddr ?? '' });
    if (!(this.o.selfCheck ?? true) && !selfCheckRequired) return null;
    try {
      return await this.step(this.selfCheckPath().split('?')[0], () => this.master.get(this.selfCheckPath()));
    } catch (e) {
      // A metanode with partitions on disk cannot load them without the list (loadPartitions).
      if (this.selfCheckRequired() || selfCheckRequired) throw e;
      this.warn(`self-check failed: ${e instanceof Error ? e.message : String(e)}`);
      return null;
    }
  }

  /** Runs `fn` up to registerTriesMax times, pausing between tries; stops with the node. */
  private async step<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const triesMax = Math.max(1, this.o.registerTriesMax ?? 3);
    for (let tryNo = 1; ; tryNo++) {
      if (this.lifetime.signal.aborted) throw new Error(`${what}: node stopped`);
      try {
        return await fn();
      } catch (e) {
        if (tryNo >= triesMax) throw new Error(`${what} failed after ${tryNo} tries: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        await this.sleep(this.o.registerRetryDelayMs ?? 200);
      }
    }
  }

  private stop(final: 'crashed' | 'closed'): Promise<void> {
    if (this.stopPromise !== null) {
      return this.stopPromise.then(() => {
        if (final === 'closed') this.stateNow = 'closed';
      });
    }
    this.stopPromise = (async () => {
      this.lifetime.abort();
      await this.server.stop();
      await this.master.close();
      // Background work (HTTP results) ends: its requests were aborted, its delays rejected.
      while (this.background.size > 0) await Promise.all([...this.background]);
      this.faults.clear();
      this.stateNow = final;
    })();
    return this.stopPromise;
  }
}
