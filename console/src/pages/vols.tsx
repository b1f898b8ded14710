// Volumes: the list with usage and partition counts, and one volume with its meta partitions
// (inode ranges, members, leader, status) and data partitions (hosts, leader, status, usage).

import type { ConsoleVolDetail, ConsoleVolSummary, PartitionStatusName } from '../../../src/api/console/contract.js';
import { usePoll } from '../api.js';
import { bytes, count, dateTime } from '../format.js';
import type { Tone } from '../ui.js';
import { Badge, Empty, Freshness, Section, Tile, UsageBar, WithData } from '../ui.js';

const STATUS_TONES: Readonly<Record<PartitionStatusName, Tone>> = {
  ReadWrite: 'ok',
  ReadOnly: 'warn',
  Recovering: 'warn',
  Unavailable: 'bad',
  Unknown: 'muted',
};

function PartitionStatus({ status }: { status: PartitionStatusName }) {
  return <Badge tone={STATUS_TONES[status]}>{status}</Badge>;
}

function VolStatus({ vol }: { vol: ConsoleVolSummary }) {
  return vol.status === 'deleting' ? <Badge tone="warn">being deleted</Badge> : <Badge tone="ok">normal</Badge>;
}

export function volHref(name: string): string {
  return `#/vols/${encodeURIComponent(name)}`;
}

export function VolsPage() {
  const vols = usePoll<ConsoleVolSummary[]>('/console/api/vols');
  return (
    <Section title="Volumes" name="vols" aside={<Freshness polled={vols} />}>
      <WithData polled={vols}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No volumes yet.</Empty>
          ) : (
            <table class="grid">
              <thead>
                <tr>
                  <th>Name</th>
                  <th>Owner</th>
                  <th>Status</th>
                  <th>Usage</th>
                  <th class="num">Meta partitions</th>
                  <th class="num">Data partitions</th>
                  <th class="num">Replicas (meta / data)</th>
                  <th>Created</th>
                </tr>
              </thead>
              <tbody>
                {list.map((v) => (
                  <tr key={v.name} data-vol={v.name}>
                    <td>
                      <a href={volHref(v.name)}>
                        <b>{v.name}</b>
                      </a>
                    </td>
                    <td>{v.owner}</td>
                    <td>
                      <VolStatus vol={v} />
                    </td>
                    <td>
                      <UsageBar used={v.usedBytes} total={v.capacityBytes} />
                    </td>
                    <td class="num" data-col="mps">
                      {count(v.metaPartitionCount)}
                    </td>
                    <td class="num" data-col="dps">
                      {count(v.dataPartitionCount)}
                      {v.writableDataPartitionCount < v.dataPartitionCount && <span class="muted"> ({count(v.writableDataPartitionCount)} writable)</span>}
                    </td>
                    <td class="num">
                      {v.mpReplicaNum} / {v.dpReplicaNum}
                    </td>
                    <td>{dateTime(v.createTimeUnixSec * 1000)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )
        }
      </WithData>
    </Section>
  );
}

function hostList(hosts: readonly string[], leader: string) {
  return (
    <span class="hosts">
      {hosts.map((h) => (
        <span key={h} class={h === leader ? 'host host-leader' : 'host'} title={h === leader ? 'leader' : undefined}>
          {h}
        </span>
      ))}
    </span>
  );
}

export function VolPage({ name }: { name: string }) {
  const detail = usePoll<ConsoleVolDetail>(`/console/api/vol?name=${encodeURIComponent(name)}`);
  return (
    <>
      <nav class="crumbs">
        <a href="#/vols">Volumes</a> › <b>{name}</b>
      </nav>
      <WithData polled={detail}>
        {(d) => (
          <>
            <div class="tiles">
              <Tile label="Volume" name="vol">
                {d.vol.name}
              </Tile>
              <Tile label="Owner" name="owner">
                {d.vol.owner}
              </Tile>
              <Tile label="Status" name="status">
                <VolStatus vol={d.vol} />
              </Tile>
              <Tile label="Usage" name="usage">
                <UsageBar used={d.vol.usedBytes} total={d.vol.capacityBytes} />
              </Tile>
              <Tile label="Inodes" name="inodes">
                {count(Number(d.inodeCount))}
              </Tile>
              <Tile label="Created" name="created">
                {dateTime(d.vol.createTimeUnixSec * 1000)}
              </Tile>
            </div>
            <Section title={`Meta partitions (${d.metaPartitions.length})`} name="metaPartitions" aside={<Freshness polled={detail} />}>
              <table class="grid">
                <thead>
                  <tr>
                    <th class="num">ID</th>
                    <th>Inode range</th>
                    <th>Members (leader in bold)</th>
                    <th>Status</th>
                    <th class="num">Inodes</th>
                    <th class="num">Dentries</th>
                  </tr>
                </thead>
                <tbody>
                  {d.metaPartitions.map((mp) => (
                    <tr key={mp.id} data-mp={mp.id}>
                      <td class="num">{mp.id}</td>
                      <td class="mono">
                        {mp.start} – {mp.end}
                      </td>
                      <td>{hostList(mp.members, mp.leaderAddr)}</td>
                      <td>
                        <PartitionStatus status={mp.status} />
                      </td>
                      <td class="num">{count(Number(mp.inodeCount))}</td>
                      <td class="num">{count(Number(mp.dentryCount))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Section>
            <Section title={`Data partitions (${d.dataPartitions.length})`} name="dataPartitions">
              {d.dataPartitions.length === 0 ? (
                <Empty>No data partitions.</Empty>
              ) : (
                <table class="grid">
                  <thead>
                    <tr>
                      <th class="num">ID</th>
                      <th>Hosts (leader in bold)</th>
                      <th>Status</th>
                      <th class="num">Replicas</th>
                      <th class="num">Used</th>
                    </tr>
                  </thead>
                  <tbody>
                    {d.dataPartitions.map((dp) => (
                      <tr key={dp.id} data-dp={dp.id}>
                        <td class="num">{dp.id}</td>
                        <td>{hostList(dp.hosts, dp.leaderAddr)}</td>
                        <td>
                          <PartitionStatus status={dp.status} />
                        </td>
                        <td class="num">{dp.replicaNum}</td>
                        <td class="num">{bytes(dp.usedBytes)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </Section>
          </>
        )}
      </WithData>
    </>
  );
}
