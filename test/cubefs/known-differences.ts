// Deliberate differences between cubemaster and the Go master that cfs-cli can see. Each entry
// masks the differing text in one or more cases, on both sides, and says why the difference is
// on purpose (spec/cubefs-master.md section 12, or a decision recorded in src/api/README.md).
// Nothing goes here because it is not implemented yet: a missing feature is a failing case.
import type { Mask } from './normalize.js';

export interface KnownDifference {
  /** Which cases (by name). */
  readonly cases: RegExp;
  readonly masks: readonly Mask[];
  /** Why cubemaster differs on purpose; cite the spec or the design decision. */
  readonly reason: string;
}

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [];

export function knownDifferencesFor(caseName: string): KnownDifference[] {
  return KNOWN_DIFFERENCES.filter((d) => d.cases.test(caseName));
}
