// Backups of this member's state (GET /cubemaster/snapshot): a consistent RocksDB view of the
// state store, in key order (MetadataFsm.openStoreSnapshot), written in the backup file format
// (fsm/snapshot-file.ts). Writes go on meanwhile: the view pins the state as of one
// applied index. The master owns this exporter: stop aborts every export in flight before it
// waits for the requests to drain, so a long download never holds up a stop.
import type { StateExport, StateExporter } from '../cluster/ports.js';
import type { MetadataFsm } from '../fsm/metadata-fsm.js';
import { decodeFramedPairs } from '../fsm/snapshot-codec.js';
import { encodeSnapshotFile, SNAPSHOT_FILE_VERSION, type SnapshotFileHeader } from '../fsm/snapshot-file.js';
import { recordCount } from '../model/index.js';
import { BackpressureError } from '../raft/core/index.js';
import { ShuttingDownError } from '../raft/errors.js';

/** Bound on backups streaming at once from one member (each pins a RocksDB view). */
const EXPORTS_IN_FLIGHT_MAX = 2;

export class StateExports implements StateExporter {
  private readonly inFlight = new Set<{ controller: AbortController; released: Promise<void> }>();
  private closed = false;

  constructor(
    private readonly fsm: MetadataFsm,
    private readonly identity: { readonly memberId: number; readonly clusterName: string },
  ) {}

  async open(signal: AbortSignal): Promise<StateExport> {
    if (this.closed) throw new ShuttingDownError('snapshot export');
    if (this.inFlight.size >= EXPORTS_IN_FLIGHT_MAX) throw new BackpressureError(`${EXPORTS_IN_FLIGHT_MAX} snapshot exports already in flight on this member; try again later`);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    let markReleased: () => void = () => undefined;
    const entry = { controller, released: new Promise<void>((resolve) => (markReleased = resolve)) };
    this.inFlight.add(entry);
    const forget = (): void => {
      signal.removeEventListener('abort', onAbort);
      this.inFlight.delete(entry);
      markReleased();
    };
    let source;
    try {
      source = await this.fsm.openStoreSnapshot();
    } catch (error) {
      forget();
      throw error;
    }
    const header: SnapshotFileHeader = {
      format: 'cubemaster-snapshot',
      version: SNAPSHOT_FILE_VERSION,
      clusterName: this.identity.clusterName,
      memberId: this.identity.memberId,
      index: source.meta.index,
      term: source.meta.term,
      conf: source.meta.conf,
      createdAtIso: new Date().toISOString(),
      recordsEstimate: recordCount(this.fsm.view),
    };
    let released = false;
    return {
      index: header.index,
      term: header.term,
      signal: controller.signal,
      bytes: encodeSnapshotFile(header, decodeFramedPairs(source.chunks(controller.signal))),
      release: async () => {
        if (released) return;
        released = true;
        try {
          await source.release();
        } finally {
          forget();
        }
      },
    };
  }

  /** Aborts every export in flight and waits until each released its view. */
  async close(): Promise<void> {
    this.closed = true;
    for (const e of this.inFlight) e.controller.abort(new ShuttingDownError('snapshot export'));
    await Promise.all([...this.inFlight].map((e) => e.released));
  }
}


