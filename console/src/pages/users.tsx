// Users: id, type, access key (masked by the master: the full key and the secret key never reach
// the browser), the vols each owns or may use.

import type { ConsoleUser } from '../../../src/api/console/contract.js';
import { usePoll } from '../api.js';
import { Badge, Empty, Freshness, Section, WithData } from '../ui.js';
import { volHref } from './vols.js';

function VolLinks({ names }: { names: readonly string[] }) {
  if (names.length === 0) return <span class="muted">–</span>;
  return (
    <span class="vol-links">
      {names.map((v) => (
        <a key={v} href={volHref(v)}>
          {v}
        </a>
      ))}
    </span>
  );
}

export function UsersPage() {
  const users = usePoll<ConsoleUser[]>('/console/api/users');
  return (
    <Section title="Users" name="users" aside={<Freshness polled={users} />}>
      <WithData polled={users}>
        {(list) =>
          list.length === 0 ? (
            <Empty>No users.</Empty>
          ) : (
            <table class="grid">
              <thead>
                <tr>
                  <th>User</th>
                  <th>Type</th>
                  <th>Access key</th>
                  <th>Owns</th>
                  <th>May use</th>
                  <th>Created</th>
                  <th>Description</th>
                </tr>
              </thead>
              <tbody>
                {list.map((u) => (
                  <tr key={u.id} data-user={u.id}>
                    <td>
                      <b>{u.id}</b>
                    </td>
                    <td>
                      <Badge tone={u.type === 'root' ? 'info' : u.type === 'admin' ? 'warn' : 'muted'}>{u.type}</Badge>
                    </td>
                    <td class="mono" title="masked: the full key is not shown">
                      {u.accessKeyMasked}
                    </td>
                    <td>
                      <VolLinks names={u.ownVols} />
                    </td>
                    <td>
                      <VolLinks names={u.authorizedVols} />
                    </td>
                    <td>{u.createTime}</td>
                    <td>{u.description === '' ? <span class="muted">–</span> : u.description}</td>
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
