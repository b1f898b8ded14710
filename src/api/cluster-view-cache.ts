// The reply body of /admin/getCluster, kept between changes (issue 10). Built per request, the
// view and its JSON cost the single JS thread 16-22 µs on an empty cluster, 40-50 µs with 10
// meta and 10 data nodes, 160-230 µs with 100 and 100 (plus the garbage); a cached body costs
// under 1 µs, and 5-10 µs when only LeaderAddr or Applied moved. (The Go master builds its view
// per request too, on every core, with VolStatInfo from its 2-minute stat round.)
//
// The view is a pure function (model/views.ts clusterView, no clock) of the model, this member's
// Raft state and fixed config. So the body is exact, never stale, when it is rebuilt on any
// change of those inputs, which it recognises without looking at them:
// - the model: the same object (a snapshot install replaces it) at the same `version` (bumped by
//   every replicated change) and `live.version` (bumped by every heartbeat-derived write);
// - the master list (MasterNodes): the same ids and HTTP addrs;
// - LeaderAddr and Applied, which move without the model (Applied on every entry, a no-op or
//   a failed command too): written into the cached text around them (OkEnvelopeTemplate), so a
//   stream of writes does not make the view be rebuilt for them.
// A request reads the cache after its read barrier, so an answer holds every change the member
// applied before it, as it did built afresh. One entry: the latest.

import type { MasterPeerInfo } from '../cluster/ports.js';
import type { ModelView, ViewOptions } from '../model/index.js';
import { clusterView } from '../model/index.js';
import { OkBody, OkEnvelopeTemplate } from './envelope.js';

/** What the view shows that the model does not hold. */
export interface ClusterViewSource {
  readonly leaderAddr: string;
  readonly applied: number;
  readonly peers: readonly MasterPeerInfo[];
}

/** The keys of ClusterView filled in per reply. */
const PER_REPLY = ['LeaderAddr', 'Applied'] as const;

interface Entry {
  readonly model: WeakRef<ModelView>;
  readonly version: number;
  readonly liveVersion: number;
  readonly peers: readonly MasterPeerInfo[];
  readonly template: OkEnvelopeTemplate;
  leaderAddr: string;
  applied: number;
  body: OkBody;
}

export class ClusterViewCache {
  private entry: Entry | null = null;

  constructor(private readonly config: { readonly viewOptions: ViewOptions; readonly legacyDataMediaType?: number }) {}

  /** The getCluster envelope for `model` as this member sees it now. */
  body(model: ModelView, source: ClusterViewSource): OkBody {
    let entry = this.entry;
    if (entry === null || !this.holds(entry, model, source.peers)) {
      entry = this.build(model, source);
      this.entry = entry;
    } else if (entry.leaderAddr !== source.leaderAddr || entry.applied !== source.applied) {
      entry.body = new OkBody(entry.template.fill([source.leaderAddr, source.applied]));
      entry.leaderAddr = source.leaderAddr;
      entry.applied = source.applied;
    }
    return entry.body;
  }

  private holds(entry: Entry, model: ModelView, peers: readonly MasterPeerInfo[]): boolean {
    return entry.model.deref() === model && entry.version === model.version && entry.liveVersion === model.live.version && samePeers(entry.peers, peers);
  }

  private build(model: ModelView, source: ClusterViewSource): Entry {
    const view = clusterView(model, {
      ...this.config.viewOptions,
      leaderAddr: source.leaderAddr,
      applied: source.applied,
      // Spec 1.5: MasterNodes come from the configured peers (here: Raft's member list).
      masterPeers: source.peers.map((p) => ({ id: p.id, addr: p.httpAddr })),
      legacyDataMediaType: this.config.legacyDataMediaType,
    });
    const template = new OkEnvelopeTemplate(view, PER_REPLY);
    return {
      model: new WeakRef(model),
      version: model.version,
      liveVersion: model.live.version,
      peers: source.peers.map((p) => ({ ...p })),
      template,
      leaderAddr: source.leaderAddr,
      applied: source.applied,
      body: new OkBody(template.fill([source.leaderAddr, source.applied])),
    };
  }
}

function samePeers(a: readonly MasterPeerInfo[], b: readonly MasterPeerInfo[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i].id !== b[i].id || a[i].httpAddr !== b[i].httpAddr) return false;
  return true;
}
