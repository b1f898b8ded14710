// The not-linearizable verdict as text a person can act on: where every ordering fails, the
// longest prefix that works, and the operations that cannot be fitted after it.

import type { Anomaly } from '../anomaly.js';
import type { Model } from '../model.js';
import { describeOperation, describeState, formatInterval, formatTime, ordinal } from './describe.js';

export interface AnomalyTextOptions {
  /** How many of the prefix's last operations to list (they made the state). */
  readonly prefixTailCount?: number;
  /** Window operations listed at most; the timeline shows them all. */
  readonly windowLinesMax?: number;
}

export function formatAnomaly<I, O, S>(model: Model<I, O, S>, anomaly: Anomaly<I, O, S>, options: AnomalyTextOptions = {}): string {
  const prefixTailCount = options.prefixTailCount ?? 5;
  const windowLinesMax = options.windowLinesMax ?? 40;
  const ops = anomaly.operations;
  const prefixPosition = new Map(anomaly.prefix.map((opIndex, position) => [opIndex, position + 1]));
  const name = (opIndex: number): string => {
    const op = ops[opIndex];
    return `op #${anomaly.historyIds[opIndex]} (client ${op.clientId}) ${describeOperation(model, op)} ${formatInterval(op)}`;
  };

  const lines: string[] = [];
  const partition = anomaly.partitionCount > 1 ? `, partition ${anomaly.partitionIndex + 1} of ${anomaly.partitionCount}` : '';
  lines.push(`NOT LINEARIZABLE (${model.name} model${partition}, ${ops.length} operations)`);
  lines.push(`No ordering gets past t=${formatTime(anomaly.failureTime)}, where ${name(anomaly.blockedOpIndex)} returns.`);

  const tail = anomaly.prefix.slice(-prefixTailCount);
  lines.push(
    `Longest linearizable prefix: ${anomaly.prefix.length} operations, leaving state ${describeState(model, anomaly.stateAfterPrefix)}` +
      (tail.length > 0 ? `; its last ${tail.length}:` : '.'),
  );
  for (const opIndex of tail) lines.push(`  ${String(prefixPosition.get(opIndex)).padStart(4)}. ${name(opIndex)}`);

  lines.push(`Pending at t=${formatTime(anomaly.failureTime)}; none of them extends that prefix to a linearization:`);
  for (const { opIndex, acceptedAfterPrefix } of anomaly.pending) {
    const why = acceptedAfterPrefix
      ? 'possible next, but every ordering after it fails'
      : `impossible in state ${describeState(model, anomaly.stateAfterPrefix)}`;
    const marker = opIndex === anomaly.blockedOpIndex ? '  <- returns at the failure point' : '';
    lines.push(`  ${name(opIndex)}: ${why}${marker}`);
  }

  lines.push(`Failing window [${formatTime(anomaly.windowStart)}, ${formatTime(anomaly.failureTime)}]: ${anomaly.window.length === 1 ? '1 operation overlaps' : `${anomaly.window.length} operations overlap`} it:`);
  for (const opIndex of anomaly.window.slice(0, windowLinesMax)) {
    const position = prefixPosition.get(opIndex);
    const role = position === undefined ? 'not linearized' : `linearized ${ordinal(position)}`;
    lines.push(`  ${name(opIndex)}: ${role}`);
  }
  if (anomaly.window.length > windowLinesMax) lines.push(`  ... and ${anomaly.window.length - windowLinesMax} more (see the timeline)`);
  return lines.join('\n');
}
