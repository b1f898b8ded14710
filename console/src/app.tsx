// The console's frame: header with the pages, the member answering and its freshness, the
// leader banner, the current page (chosen by the URL's #fragment, so pages are links and the
// browser's back button works), the action dialog and the notices.

import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { ConsoleOverview } from '../../src/api/console/contract.js';
import type { Polled } from './api.js';
import { usePoll } from './api.js';
import type { ActionRequest, Notice } from './actions.js';
import { ActionDialog, AskAction, forgetKeys, useHeldAccessKey } from './actions.js';
import { NodesPage } from './pages/nodes.js';
import { OverviewPage } from './pages/overview.js';
import { UsersPage } from './pages/users.js';
import { VolPage, VolsPage } from './pages/vols.js';
import { Freshness } from './ui.js';

type Route = { readonly page: 'overview' } | { readonly page: 'vols' } | { readonly page: 'vol'; readonly name: string } | { readonly page: 'nodes' } | { readonly page: 'users' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  switch (parts[0]) {
    case 'vols':
      return parts.length > 1 && parts[1] !== '' ? { page: 'vol', name: decodeURIComponent(parts.slice(1).join('/')) } : { page: 'vols' };
    case 'nodes':
      return { page: 'nodes' };
    case 'users':
      return { page: 'users' };
    default:
      return { page: 'overview' };
  }
}

function useRoute(): Route {
  const [route, setRoute] = useState(parseRoute(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

const PAGE_TITLES: Readonly<Record<Route['page'], string>> = {
  overview: 'Overview',
  vols: 'Volumes',
  vol: 'Volume',
  nodes: 'Nodes',
  users: 'Users',
};

function NavLink({ href, active, children }: { href: string; active: boolean; children: ComponentChildren }) {
  return (
    <a href={href} class={active ? 'nav-link active' : 'nav-link'} aria-current={active ? 'page' : undefined}>
      {children}
    </a>
  );
}

/** Says loudly when the member answering is not the leader, or when there is no leader at all. */
function LeaderBanner({ overview }: { overview: Polled<ConsoleOverview> }) {
  const o = overview.data;
  if (overview.error !== null && overview.error.kind === 'network') {
    return (
      <div class="banner banner-bad" role="alert" data-banner="unreachable">
        <b>This master does not answer</b> ({overview.error.message}). The figures below are from its last answer and may be out of date.
      </div>
    );
  }
  if (o === null) return null;
  if (o.leader === null) {
    return (
      <div class="banner banner-bad" role="alert" data-banner="no-leader">
        <b>No leader.</b> Master {o.self.id} knows no leader in term {o.term}: the cluster refuses writes, and node and volume views wait for an election to
        finish.
      </div>
    );
  }
  if (o.leader.id !== o.self.id) {
    return (
      <div class="banner banner-warn" role="status" data-banner="follower">
        <b>
          This is master {o.self.id}, a {o.self.role}.
        </b>{' '}
        The leader is master {o.leader.id} at {o.leader.httpAddr}: node and volume views come from it, actions are forwarded to it.{' '}
        <a href={`http://${o.leader.httpAddr}/console/${location.hash}`}>Open the leader's console</a>
      </div>
    );
  }
  return null;
}

function KeysIndicator() {
  const ak = useHeldAccessKey();
  if (ak === null) return <span class="keys-indicator muted">read-only</span>;
  return (
    <span class="keys-indicator" data-keys="held">
      root keys held (<code>{ak}</code>){' '}
      <button type="button" class="link" onClick={forgetKeys}>
        forget
      </button>
    </span>
  );
}

export function App() {
  const route = useRoute();
  const overview = usePoll<ConsoleOverview>('/console/api/overview');
  const [action, setAction] = useState<ActionRequest | null>(null);
  const [notices, setNotices] = useState<readonly Notice[]>([]);
  const o = overview.data;

  useEffect(() => {
    document.title = `${PAGE_TITLES[route.page]} · ${o?.clusterName ?? 'cubemaster'} console`;
  }, [route.page, o?.clusterName]);

  const closeAction = (notice: Notice | null): void => {
    setAction(null);
    if (notice !== null) {
      setNotices((n) => [...n.slice(-3), notice]);
      overview.refresh();
      window.setTimeout(() => setNotices((n) => n.filter((x) => x.id !== notice.id)), 10_000);
    }
  };

  return (
    <AskAction.Provider value={setAction}>
      <header class="top">
        <div class="brand">
          <span class="brand-name">cubemaster</span>
          {o !== null && <span class="brand-cluster">{o.clusterName}</span>}
        </div>
        <nav class="nav">
          <NavLink href="#/" active={route.page === 'overview'}>
            Overview
          </NavLink>
          <NavLink href="#/vols" active={route.page === 'vols' || route.page === 'vol'}>
            Volumes
          </NavLink>
          <NavLink href="#/nodes" active={route.page === 'nodes'}>
            Nodes
          </NavLink>
          <NavLink href="#/users" active={route.page === 'users'}>
            Users
          </NavLink>
        </nav>
        <div class="top-right">
          {o !== null && (
            <span class="member-pill" data-self-role={o.self.role}>
              master {o.self.id} · {o.self.role}
            </span>
          )}
          <Freshness polled={overview} />
          <KeysIndicator />
        </div>
      </header>
      <LeaderBanner overview={overview} />
      <main class="page" data-page={route.page}>
        {route.page === 'overview' && <OverviewPage overview={overview} />}
        {route.page === 'vols' && <VolsPage />}
        {route.page === 'vol' && <VolPage name={route.name} />}
        {route.page === 'nodes' && <NodesPage />}
        {route.page === 'users' && <UsersPage />}
      </main>
      {action !== null && <ActionDialog action={action} onClose={closeAction} />}
      <div class="notices" aria-live="polite">
        {notices.map((n) => (
          <div key={n.id} class={`notice notice-${n.tone}`} role="status">
            {n.text}
          </div>
        ))}
      </div>
    </AskAction.Provider>
  );
}
