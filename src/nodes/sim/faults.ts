// Fault injection for a simulated node: which received tasks fail, and how long replies wait.
// A failure of a synchronous op is an error reply (ResultCode 0xF8, Data = the message); of an
// ack-only op, an OK ack followed by a /…/response whose Response.Status is 2 (TaskFailed) and
// Result is the message, which is how a real node reports work that failed after the ack.

/** What a fault rule sees of a received task. */
export interface SimTaskInfo {
  readonly opCode: number;
  readonly partitionId: number;
  readonly taskId: string;
  /** AdminTask.Request as parsed (64-bit exact). */
  readonly request: unknown;
}

interface FailRule {
  readonly matches: (task: SimTaskInfo) => boolean;
  /** Failures left; Infinity for failWhen rules. */
  remaining: number;
  readonly message: string;
}

export const DEFAULT_FAULT_MESSAGE = 'injected failure';

export class FaultPlan {
  private readonly rules: FailRule[] = [];
  private readonly delays = new Map<number, number>();

  /** The next `count` tasks with `opCode` fail with `message`. */
  failNext(opCode: number, count: number, message: string = DEFAULT_FAULT_MESSAGE): void {
    if (count > 0) this.rules.push({ matches: (t) => t.opCode === opCode, remaining: count, message });
  }

  /** Every task for which `predicate` holds fails, until the returned function is called. */
  failWhen(predicate: (task: SimTaskInfo) => boolean, message: string = DEFAULT_FAULT_MESSAGE): () => void {
    const rule: FailRule = { matches: predicate, remaining: Infinity, message };
    this.rules.push(rule);
    return () => {
      const at = this.rules.indexOf(rule);
      if (at >= 0) this.rules.splice(at, 1);
    };
  }

  /** Replies (and acks) to `opCode` wait `ms` first; 0 removes the delay. */
  delay(opCode: number, ms: number): void {
    if (ms > 0) this.delays.set(opCode, ms);
    else this.delays.delete(opCode);
  }

  delayFor(opCode: number): number {
    return this.delays.get(opCode) ?? 0;
  }

  /** The failure message for `task`, consuming one failNext count; null when it succeeds. */
  failureFor(task: SimTaskInfo): string | null {
    for (let i = 0; i < this.rules.length; i++) {
      const rule = this.rules[i];
      if (!rule.matches(task)) continue;
      rule.remaining -= 1;
      if (rule.remaining <= 0) this.rules.splice(i, 1);
      return rule.message;
    }
    return null;
  }

  clear(): void {
    this.rules.length = 0;
    this.delays.clear();
  }
}
