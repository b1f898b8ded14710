// Deliberate differences between cubemaster and the Go master that cfs-cli can see. Each entry
// masks the differing text in one or more cases, on both sides, and says why the difference is
// on purpose (spec/cubefs-master.md section 12, or a decision recorded in src/api/README.md).
// Nothing goes here because it is not implemented yet: a missing feature is a failing case.
import type { Mask } from './normalize.js';
import { maskLabel, maskPattern } from './normalize.js';

export interface KnownDifference {
  /** Which cases (by name). */
  readonly cases: RegExp;
  readonly masks: readonly Mask[];
  /** Why cubemaster differs on purpose; cite the spec or the design decision. */
  readonly reason: string;
}

export const KNOWN_DIFFERENCES: readonly KnownDifference[] = [
  {
    cases: /^volume info/,
    masks: [maskLabel('Max DataPartition ID', 'Go answers from a view cache refreshed every 10 s')],
    reason: 'docs/compatibility.md: MaxDataPartitionID is the real maximum; the Go master shows 0 until its 10 s view cache refreshes after a create',
  },
  {
    // Rows of `volume info -d`: ID REPLICAS STATUS ISRECOVER MEDIA [LEADER] MEMBERS.
    cases: /^volume info .*-d/,
    masks: [maskPattern(/^( ?\d+ \d+ \S+ (?:true|false) \S+) \{DN.*$/m, 'a Go follower answers from its follower cache, without leaders')],
    reason: 'docs/compatibility.md: with 3 masters the Go master serves /client/partitions on a follower from its follower cache, whose rows name no leader; cubemaster forwards it to the leader, which knows the reported leaders',
  },
  {
    cases: /^cluster stat \(nodes\)$/,
    masks: [maskPattern(/( ?ZONE NAME ROLE[^\n]*)[\s\S]*$/, 'Go fills the zone rows on its periodic stat round')],
    reason: 'docs/compatibility.md: /cluster/stat is computed per request; the Go master shows the zone rows only after its periodic stat round has run',
  },
  {
    cases: /^metanode list \(after decommission\)$/,
    masks: [maskPattern(/^( ?\d+ \{MN\d+\}\S*) (?:Yes|No)/m, 'Go marks a node unwritable for a decommission until its next heartbeat')],
    reason: 'docs/compatibility.md: the Go master sets MaxMemAvailWeight to 1 when a decommission starts, so the node shows unwritable until its next heartbeat; cubemaster changes nothing when no replica moved',
  },
];

export function knownDifferencesFor(caseName: string): KnownDifference[] {
  return KNOWN_DIFFERENCES.filter((d) => d.cases.test(caseName));
}
