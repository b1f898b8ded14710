// The host names of a node's IP, for the `DomainAddr` the Go master shows beside every node
// ("localhost:17210,runsc:17210,vm:17210"). Go resolves them with net.LookupAddr on every
// heartbeat: /etc/hosts first (every name of the address, in file order), else a PTR query.
// Here the answer is cached per IP, so a heartbeat never waits on a resolver: the first report
// from an IP starts the lookup and the names appear from the next report on.

import { readFile } from 'node:fs/promises';
import { Resolver } from 'node:dns/promises';

export const HOST_NAMES_TTL_MS = 5 * 60_000;
/** Bound on cached IPs (a cluster has at most a few thousand nodes). */
export const HOST_NAMES_CACHE_MAX = 20_000;
const PTR_TIMEOUT_MS = 2_000;

type Lookup = (ip: string) => Promise<string[]>;

interface Entry {
  names: readonly string[];
  expiresMs: number;
  pending: boolean;
}

export class HostNames {
  private readonly cache = new Map<string, Entry>();

  constructor(
    private readonly nowMs: () => number,
    private readonly lookup: Lookup = lookupAddr,
  ) {}

  /** `name:port,...` for a node address `ip:port`, from the cache ("" until resolved). */
  domainAddrOf(addr: string): string {
    const colon = addr.lastIndexOf(':');
    if (colon <= 0) return '';
    const ip = addr.slice(0, colon);
    const port = addr.slice(colon + 1);
    return this.namesOf(ip)
      .map((name) => `${name}:${port}`)
      .join(',');
  }

  namesOf(ip: string): readonly string[] {
    const now = this.nowMs();
    const entry = this.cache.get(ip);
    if (entry !== undefined && (entry.pending || entry.expiresMs > now)) return entry.names;
    this.refresh(ip, entry?.names ?? []);
    return entry?.names ?? [];
  }

  private refresh(ip: string, stale: readonly string[]): void {
    if (!this.cache.has(ip) && this.cache.size >= HOST_NAMES_CACHE_MAX) {
      const oldest = this.cache.keys().next();
      if (oldest.done !== true) this.cache.delete(oldest.value);
    }
    const entry: Entry = { names: stale, expiresMs: 0, pending: true };
    this.cache.set(ip, entry);
    this.lookup(ip).then(
      (names) => {
        entry.names = names;
      },
      () => undefined, // no name: DomainAddr stays "" as in Go
    ).finally(() => {
      entry.pending = false;
      entry.expiresMs = this.nowMs() + HOST_NAMES_TTL_MS;
    });
  }
}

/** Go's net.LookupAddr: the names /etc/hosts gives the address, else its PTR records. */
export async function lookupAddr(ip: string): Promise<string[]> {
  const fromHosts = await namesInHostsFile(ip);
  if (fromHosts.length > 0) return fromHosts;
  const resolver = new Resolver({ timeout: PTR_TIMEOUT_MS, tries: 1 });
  const names = await resolver.reverse(ip);
  return names.map((n) => n.replace(/\.$/, ''));
}

async function namesInHostsFile(ip: string, file = '/etc/hosts'): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  const names: string[] = [];
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length < 2 || fields[0] !== ip) continue;
    for (const name of fields.slice(1)) if (!names.includes(name)) names.push(name);
  }
  return names;
}
