// Human-readable one-line descriptions of entries, messages and Readies, for traces in tests,
// the simulator's violation reports and debug logs. Stable output: scenario tests compare it.
import { decodeConfChange, describeConfChange } from './conf-change.js';
import { EntryType, MESSAGE_TYPE_NAMES, MessageType, type ConfState, type Entry, type HardState, type Message, type Ready, type SnapshotMeta } from './types.js';

const textDecoder = new TextDecoder();

export function describeEntry(e: Entry): string {
  if (e.type === EntryType.ConfChange) return `${e.term}/${e.index} ConfChange ${describeConfChange(decodeConfChange(e.data))}`;
  return `${e.term}/${e.index} ${JSON.stringify(textDecoder.decode(e.data))}`;
}

export function describeEntries(entries: readonly Entry[]): string {
  return `[${entries.map(describeEntry).join(', ')}]`;
}

export function describeConf(conf: ConfState): string {
  const learners = conf.learners.length > 0 ? ` learners=(${conf.learners.join(' ')})` : '';
  return `voters=(${conf.voters.join(' ')})${learners}`;
}

export function describeSnapshot(s: SnapshotMeta): string {
  return `Index:${s.index} Term:${s.term} ${describeConf(s.conf)}`;
}

export function describeHardState(h: HardState): string {
  return `Term:${h.term} Vote:${h.vote} Commit:${h.commit}`;
}

export function describeMessage(m: Message): string {
  let s = `${m.from}->${m.to} ${MESSAGE_TYPE_NAMES[m.type]} Term:${m.term}`;
  switch (m.type) {
    case MessageType.App:
      s += ` Log:${m.logTerm}/${m.index} Commit:${m.commit}`;
      if (m.entries.length > 0) s += ` Entries:${describeEntries(m.entries)}`;
      break;
    case MessageType.AppResp:
      s += m.reject ? ` Rejected Index:${m.index} Hint:${m.logTerm}/${m.rejectHint}` : ` Index:${m.index}`;
      break;
    case MessageType.Vote:
    case MessageType.PreVote:
      s += ` Log:${m.logTerm}/${m.index}`;
      break;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      s += m.reject ? ' Rejected' : ' Granted';
      break;
    case MessageType.Heartbeat:
      s += ` Commit:${m.commit}`;
      break;
    case MessageType.Snap:
      s += ` Snapshot:{${describeSnapshot(m.snapshot!)}}`;
      break;
    case MessageType.ReadIndexResp:
      s += m.reject ? ' Rejected' : ` Index:${m.index}`;
      break;
    case MessageType.TransferLeader:
      s += ` Target:${m.index}`;
      break;
    default:
      break;
  }
  if (m.context !== '') s += ` Context:${m.context}`;
  return s;
}

/** A multi-line description of a Ready, indented by `indent`. */
export function describeReady(r: Ready, indent = ''): string {
  const lines: string[] = [];
  if (r.hardState !== null) lines.push(`HardState ${describeHardState(r.hardState)}`);
  if (r.snapshot !== null) lines.push(`Snapshot ${describeSnapshot(r.snapshot)}`);
  if (r.entries.length > 0) lines.push('Entries:', ...r.entries.map((e) => `  ${describeEntry(e)}`));
  if (r.committedEntries.length > 0) lines.push('CommittedEntries:', ...r.committedEntries.map((e) => `  ${describeEntry(e)}`));
  if (r.leaderMessages.length > 0) lines.push('Messages (before persist):', ...r.leaderMessages.map((m) => `  ${describeMessage(m)}`));
  if (r.messages.length > 0) lines.push('Messages:', ...r.messages.map((m) => `  ${describeMessage(m)}`));
  if (r.readStates.length > 0) lines.push('ReadStates:', ...r.readStates.map((s) => `  ${s.context} Index:${s.index}`));
  if (r.readFailures.length > 0) lines.push('ReadFailures:', ...r.readFailures.map((f) => `  ${f.context} LeaderHint:${f.leaderHint}`));
  if (r.events.length > 0) lines.push('Events:', ...r.events.map((e) => `  ${describeEvent(e)}`));
  return lines.map((l) => indent + l).join('\n');
}

function describeEvent(e: Ready['events'][number]): string {
  switch (e.kind) {
    case 'became-follower':
      return `became follower at term ${e.term}${e.leader !== 0 ? ` (leader ${e.leader})` : ''}`;
    case 'became-pre-candidate':
      return `became pre-candidate at term ${e.term}`;
    case 'became-candidate':
      return `became candidate at term ${e.term}`;
    case 'became-leader':
      return `became leader at term ${e.term}`;
    case 'leader-stepped-down':
      return `leader stepped down at term ${e.term} (${e.reason})`;
    case 'transfer-started':
      return `leadership transfer to ${e.target} started at term ${e.term}`;
    case 'transfer-aborted':
      return `leadership transfer to ${e.target} aborted at term ${e.term}`;
    case 'conf-changed':
      return `configuration ${describeConf(e.conf)} (entry ${e.index})`;
    case 'snapshot-needed':
      return `member ${e.peer} needs snapshot ${e.index}`;
    case 'snapshot-restored':
      return `restored snapshot ${e.term}/${e.index}`;
  }
}
