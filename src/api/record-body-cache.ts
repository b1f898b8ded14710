// Reply bodies of views of one model record (/user/info, /user/akInfo: proto.UserInfo of a
// user), kept while the record is unchanged (issue 10: on linearizable /user/info reads,
// building the view and its JSON was ~8% of the leader's CPU).
//
// Exact, never stale: model records are immutable and replaced by every change (model/apply
// copies a record to change it; a snapshot install brings new objects), so a body built from the
// same record object is the body a fresh build gives, as long as the view's other inputs are
// fixed (ViewOptions are, per server). A request reads the cache after its read barrier, as it
// built the view before. Bounded: at most `maxEntries` bodies, the oldest added dropped first.

import { OkBody, okEnvelopeBytes } from './envelope.js';

interface Entry<R> {
  readonly record: R;
  readonly body: OkBody;
}

export class RecordBodyCache<R extends object> {
  private readonly entries = new Map<string, Entry<R>>();

  constructor(
    /** The view of a record: the envelope's `data`. */
    private readonly view: (record: R) => unknown,
    private readonly maxEntries: number,
  ) {}

  /** The success envelope of view(record), `key` naming the record (its id). */
  body(key: string, record: R): OkBody {
    const hit = this.entries.get(key);
    if (hit !== undefined && hit.record === record) return hit.body;
    const body = new OkBody(okEnvelopeBytes(this.view(record)));
    if (hit === undefined && this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { record, body });
    return body;
  }

  get size(): number {
    return this.entries.size;
  }
}
