// The cluster at a glance: who leads, in which term, how far the log is committed and applied,
// every master with its role, replication match, lag and health; what the cluster holds; the
// write rate and latency of the last minutes.

import type { ConsoleMember, ConsoleNodes, ConsoleOverview, ConsoleSeries, MemberHealth } from '../../../src/api/console/contract.js';
import type { Polled } from '../api.js';
import { usePoll } from '../api.js';
import { useAskAction } from '../actions.js';
import { Chart } from '../chart.js';
import { count, millis } from '../format.js';
import type { Tone } from '../ui.js';
import { Badge, Freshness, Section, Tile, WithData } from '../ui.js';

const HEALTH: Readonly<Record<MemberHealth, { tone: Tone; text: string }>> = {
  healthy: { tone: 'ok', text: 'healthy' },
  lagging: { tone: 'warn', text: 'lagging' },
  unreachable: { tone: 'bad', text: 'unreachable' },
  stopping: { tone: 'warn', text: 'stopping' },
  unknown: { tone: 'muted', text: 'no leader to compare' },
};

export function OverviewPage({ overview }: { overview: Polled<ConsoleOverview> }) {
  const nodes = usePoll<ConsoleNodes>('/console/api/nodes');
  const series = usePoll<ConsoleSeries>('/console/api/series');
  return (
    <WithData polled={overview}>
      {(o) => (
        <>
          <div class="tiles">
            <Tile label="Cluster" name="cluster">
              {o.clusterName}
            </Tile>
            <Tile label="Leader" name="leader" tone={o.leader === null ? 'bad' : undefined} sub={o.leader?.httpAddr ?? 'no leader known'}>
              {o.leader === null ? 'none' : `master ${o.leader.id}`}
            </Tile>
            <Tile label="Term" name="term">
              {count(o.term)}
            </Tile>
            <Tile label="Commit index" name="commit" sub={`on master ${o.self.id}`}>
              {count(o.commit)}
            </Tile>
            <Tile label="Applied index" name="applied" sub={`on master ${o.self.id}`}>
              {count(o.applied)}
            </Tile>
            <MembersTile members={o.members} />
          </div>
          <Section title="Masters" name="members" aside={<Freshness polled={overview} />}>
            <MembersTable overview={o} />
          </Section>
          <Section title="Contents" name="contents" aside={<Freshness polled={nodes} />}>
            <div class="tiles">
              <Tile label="Volumes" name="vols">
                <a href="#/vols">{count(o.counts.vols)}</a>
              </Tile>
              <Tile label="Meta partitions" name="metaPartitions">
                {count(o.counts.metaPartitions)}
              </Tile>
              <Tile label="Data partitions" name="dataPartitions">
                {count(o.counts.dataPartitions)}
              </Tile>
              <NodesTile label="Meta nodes" name="metaNodes" total={o.counts.metaNodes} active={nodes.data?.metaNodes.filter((n) => n.active).length} />
              <NodesTile label="Data nodes" name="dataNodes" total={o.counts.dataNodes} active={nodes.data?.dataNodes.filter((n) => n.active).length} />
              <Tile label="Users" name="users">
                <a href="#/users">{count(o.counts.users)}</a>
              </Tile>
            </div>
          </Section>
          <Section title={`Writes and latency, measured on master ${o.self.id}`} name="charts" aside={<Freshness polled={series} />}>
            <RateCharts series={series.data} />
          </Section>
        </>
      )}
    </WithData>
  );
}

function MembersTile({ members }: { members: readonly ConsoleMember[] }) {
  const healthy = members.filter((m) => m.health === 'healthy').length;
  const tone: Tone = healthy === members.length ? 'ok' : healthy > members.length / 2 ? 'warn' : 'bad';
  return (
    <Tile label="Masters healthy" name="healthy" tone={tone} sub={`${members.length} members`}>
      {healthy} / {members.length}
    </Tile>
  );
}

function NodesTile({ label, name, total, active }: { label: string; name: string; total: number; active: number | undefined }) {
  const tone: Tone | undefined = active === undefined ? undefined : active === total ? undefined : 'warn';
  return (
    <Tile label={label} name={name} tone={tone} sub={active === undefined ? 'liveness unknown' : `${count(active)} active`}>
      <a href="#/nodes">{count(total)}</a>
    </Tile>
  );
}

function MembersTable({ overview }: { overview: ConsoleOverview }) {
  const ask = useAskAction();
  const leaderId = overview.leader?.id ?? 0;
  const transfer = (m: ConsoleMember): void =>
    ask({
      title: `Make master ${m.id} the leader`,
      description: (
        <>
          <p>
            Raft leadership moves from <b>{leaderId === 0 ? 'no current leader' : `master ${leaderId} (${overview.leader?.httpAddr})`}</b> to{' '}
            <b>
              master {m.id} ({m.httpAddr})
            </b>
            .
          </p>
          <p>Writes pause while leadership moves (usually well under a second); clients retry on their own. Nothing else changes.</p>
        </>
      ),
      confirmLabel: `Transfer leadership to master ${m.id}`,
      method: 'POST',
      path: `/cubemaster/leader/transfer?target=${m.id}`,
      done: (data) => `Leadership transferred: master ${(data as { leaderId?: number } | null)?.leaderId ?? m.id} now leads.`,
    });
  return (
    <table class="grid">
      <thead>
        <tr>
          <th>Master</th>
          <th>Address</th>
          <th>Role</th>
          <th class="num">Term</th>
          <th class="num">Commit</th>
          <th class="num">Applied</th>
          <th class="num">Match</th>
          <th class="num">Lag</th>
          <th>Health</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {overview.members.map((m) => (
          <tr key={m.id} data-member={m.id}>
            <td>
              <b>{m.id}</b>
              {m.id === overview.self.id && <span class="muted"> (this one)</span>}
            </td>
            <td class="mono">{m.httpAddr}</td>
            <td>
              {m.role === null ? <span class="muted">–</span> : <Badge tone={m.role === 'leader' ? 'info' : 'muted'}>{m.role}</Badge>}
              {m.isLearner && <Badge tone="warn">learner</Badge>}
            </td>
            <td class="num">{count(m.term)}</td>
            <td class="num">{count(m.commit)}</td>
            <td class="num">{count(m.applied)}</td>
            <td class="num">{count(m.match)}</td>
            <td class="num">{count(m.lag)}</td>
            <td title={m.error}>
              <Badge tone={HEALTH[m.health].tone}>{HEALTH[m.health].text}</Badge>
              {m.error !== '' && <div class="cell-note">{m.error}</div>}
            </td>
            <td class="actions">
              {m.role !== 'leader' && !m.isLearner && m.reachable && leaderId !== 0 && (
                <button type="button" class="small" onClick={() => transfer(m)}>
                  Make leader…
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RateCharts({ series }: { series: ConsoleSeries | null }) {
  const samples = series?.samples ?? [];
  const times = samples.map((s) => s.tMs / 1000);
  const last = samples[samples.length - 1];
  return (
    <>
      <p class="chart-summary">
        {last === undefined ? (
          'Collecting samples…'
        ) : (
          <>
            Last second: <b>{count(last.commitsPerSec)}</b> commits/s, <b>{count(last.requestsPerSec)}</b> API requests/s, latency p50{' '}
            <b>{millis(last.latencyP50Ms)}</b>, p99 <b>{millis(last.latencyP99Ms)}</b>
          </>
        )}
      </p>
      <div class="charts">
        <Chart
          title="Write rate"
          name="rate"
          unit="/s"
          times={times}
          lines={[
            { label: 'Raft commits', color: '#2563eb', values: samples.map((s) => s.commitsPerSec) },
            { label: 'API requests', color: '#9333ea', values: samples.map((s) => s.requestsPerSec) },
          ]}
        />
        <Chart
          title="API latency"
          name="latency"
          unit="ms"
          times={times}
          lines={[
            { label: 'p50', color: '#059669', values: samples.map((s) => s.latencyP50Ms) },
            { label: 'p99', color: '#dc2626', values: samples.map((s) => s.latencyP99Ms) },
          ]}
        />
      </div>
    </>
  );
}
