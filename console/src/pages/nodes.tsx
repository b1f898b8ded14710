// Meta and data nodes as the leader sees them through their heartbeats: active or not, writable,
// usage, zone and node set, partitions held, last report; and the decommission action.

import type { ComponentChildren } from 'preact';
import type { ConsoleNode, ConsoleNodes } from '../../../src/api/console/contract.js';
import { usePoll } from '../api.js';
import { useAskAction } from '../actions.js';
import { age, count } from '../format.js';
import { Badge, Empty, Freshness, Section, UsageBar, useNow, WithData } from '../ui.js';

export function NodesPage() {
  const nodes = usePoll<ConsoleNodes>('/console/api/nodes');
  return (
    <WithData polled={nodes}>
      {(n) => (
        <>
          <NodeTable title="Meta nodes" kind="meta" nodes={n.metaNodes} aside={<Freshness polled={nodes} />} onChange={nodes.refresh} />
          <NodeTable title="Data nodes" kind="data" nodes={n.dataNodes} onChange={nodes.refresh} />
        </>
      )}
    </WithData>
  );
}

function NodeTable({ title, kind, nodes, aside, onChange }: { title: string; kind: 'meta' | 'data'; nodes: readonly ConsoleNode[]; aside?: ComponentChildren; onChange: () => void }) {
  const now = useNow();
  const ask = useAskAction();
  const active = nodes.filter((n) => n.active).length;
  const decommission = (n: ConsoleNode): void =>
    ask({
      title: `Decommission ${kind} node ${n.addr}`,
      description: (
        <>
          <p>
            The {count(n.partitionCount)} {kind} partition replicas that <b>{n.addr}</b> reports move to other {kind} nodes, one partition at a time, in the
            background.
          </p>
          <p>Once every replica has moved, the node is removed from the cluster; to come back it must register again. There is no undo here.</p>
          <p class="muted">
            Node {n.id} · zone {n.zone === '' ? 'default' : n.zone} · node set {n.nodeSetId}
          </p>
        </>
      ),
      confirmLabel: `Decommission ${n.addr}`,
      method: 'POST',
      path: `/cubemaster/node/decommission?kind=${kind}&addr=${encodeURIComponent(n.addr)}`,
      done: () => {
        onChange();
        return `Decommission of ${kind} node ${n.addr} started: its partition count falls as replicas move, then it leaves the list.`;
      },
    });
  return (
    <Section
      title={
        <>
          {title}{' '}
          <span class="muted">
            ({active} of {nodes.length} active)
          </span>
        </>
      }
      name={`${kind}Nodes`}
      aside={aside}
    >
      {nodes.length === 0 ? (
        <Empty>No {kind} nodes have registered.</Empty>
      ) : (
        <table class="grid">
          <thead>
            <tr>
              <th class="num">ID</th>
              <th>Address</th>
              <th>Status</th>
              <th>Zone</th>
              <th class="num">Node set</th>
              <th>{kind === 'meta' ? 'Memory' : 'Space'}</th>
              <th class="num">Partitions</th>
              <th>Last report</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {nodes.map((n) => (
              <tr key={n.id} data-node={n.addr} class={n.active ? undefined : 'row-bad'}>
                <td class="num">{n.id}</td>
                <td class="mono">{n.addr}</td>
                <td>
                  {n.active ? <Badge tone="ok">active</Badge> : <Badge tone="bad">inactive</Badge>}{' '}
                  {n.active && !n.writable && <Badge tone="warn">{n.rdOnly ? 'read-only' : 'not writable'}</Badge>}
                </td>
                <td>{n.zone === '' ? <span class="muted">default</span> : n.zone}</td>
                <td class="num">{n.nodeSetId}</td>
                <td>
                  <UsageBar used={n.usedBytes} total={n.totalBytes} />
                </td>
                <td class="num">{count(n.partitionCount)}</td>
                <td>{age(n.reportTimeMs, now)}</td>
                <td class="actions">
                  <button type="button" class="small" onClick={() => decommission(n)}>
                    Decommission…
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </Section>
  );
}
