// Operating errors of the node layer: malformed bytes or JSON from a peer. They are handled
// (the connection is closed, the body refused) and reported; they never crash the process.
// NodeTaskError, what a caller of the task client sees, lives in task-client.ts.

import { CubeCode, OperatingError, ParamError } from '../util/errors.js';

export type PacketDecodeReason =
  /** Byte 0 is not 0xFF; nodes answer "Bad Magic" and close (proto/packet.go UnmarshalHeader). */
  | 'bad-magic'
  /** Size or ArgLen (or a version list) above the decoder's limit. */
  | 'too-large'
  /** A one-shot decode got fewer bytes than the header announces. */
  | 'truncated'
  /** A one-shot decode got more bytes than one packet. */
  | 'trailing';

/** The bytes on a packet connection are not a well-formed packet (spec 2.2). */
export class PacketDecodeError extends OperatingError {
  readonly reason: PacketDecodeReason;
  constructor(reason: PacketDecodeReason, message: string) {
    super(CubeCode.InternalError, message);
    this.reason = reason;
  }
}

/**
 * A JSON body from a peer (an AdminTask, a task request, a heartbeat report) is not JSON or a
 * field has the wrong type or range. `field` is the path of the first bad field, e.g.
 * `Response.MetaPartitionReports[2].End`, or '' when the text is not JSON at all.
 */
export class NodeMessageError extends ParamError {
  constructor(field: string, message: string) {
    super(field, message);
  }
}
