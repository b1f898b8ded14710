// docs/access-rules.md, rendered from the table that the API enforces (src/api/access-rules.ts).
// test/api/access-rules.test.ts fails when the file differs from this rendering; rewrite it with
//   npm run -s build && node dist/test/api/access-rules-doc.js --write

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AccessRule, RouteAccessRow } from '../../src/api/access-rules.js';
import { ROUTE_ACCESS } from '../../src/api/access-rules.js';
import { ROOT_AUTH_CLOCK_SKEW_MAX_MS, ROOT_AUTH_HEADERS } from '../../src/api/root-auth.js';

export const ACCESS_RULES_DOC_PATH = 'docs/access-rules.md';

export type CallerClass = 'anonymous' | 'normal' | 'admin' | 'root';
export const CALLER_CLASSES: readonly CallerClass[] = ['anonymous', 'normal', 'admin', 'root'];

/** What a caller of a class gets from a route with `rule` ('ok': the handler answers; 'self': ok about itself, else 57). */
export function outcomeOf(rule: AccessRule, caller: CallerClass): 'ok' | '57' | 'self' {
  switch (rule) {
    case 'open':
    case 'authKey':
      return 'ok';
    case 'self-or-admin':
      return caller === 'admin' || caller === 'root' ? 'ok' : caller === 'normal' ? 'self' : '57';
    case 'admin':
      return caller === 'admin' || caller === 'root' ? 'ok' : '57';
    case 'root':
      return caller === 'root' ? 'ok' : '57';
  }
}

const CELL: Readonly<Record<ReturnType<typeof outcomeOf>, string>> = { ok: '✓', '57': '57', self: 'self ✓, else 57' };

function cells(rule: AccessRule): string {
  return CALLER_CLASSES.map((c) => (rule === 'self-or-admin' && c === 'admin' ? "✓, root's record 57" : CELL[outcomeOf(rule, c)])).join(' | ');
}

function ruleText(rule: AccessRule): string {
  return rule === 'authKey' ? 'authKey (34)' : rule;
}

function row(r: RouteAccessRow): string {
  const notes = [r.checks === undefined ? '' : `checks: ${r.checks}`, r.note ?? '', r.onlyWhen === undefined ? '' : `only with ${r.onlyWhen}`].filter((t) => t !== '').join('; ');
  return `| \`${r.url}\` | ${r.methods.join(', ')} | ${ruleText(r.cubefs)} | ${cells(r.cubefs)} | ${ruleText(r.signed)} | ${cells(r.signed)} | ${notes} |`;
}

export function renderAccessRulesDoc(): string {
  const out: string[] = [];
  out.push(`# Who may call which route

Generated from \`src/api/access-rules.ts\`, the table the API enforces
(\`node dist/test/api/access-rules-doc.js --write\` after a build rewrites this file;
\`test/api/access-rules.test.ts\` fails when they differ, when a route has no row or a row no
route, and walks every row with the four callers below, checking each one's code and that a
refused call changes nothing).

## Modes

The config key \`apiAccess\` picks one:

- \`cubefs\` (default): the Go master's rules. Its HTTP API authenticates no caller: cfs-cli, the
  SDK, the objectnode and the nodes send no credentials. What Go checks is checked the same way
  with the same codes: the vol's authKey = md5(owner) on the routes that change or reveal a vol
  (34), and the root user as a target (create or update to type root: 56; delete or update root:
  57). cubemaster's own privileged routes need a request signed by the root user. Anyone who can
  reach the API can read any user's keys (\`/user/info\`, as in Go), root's included: in this mode
  the signature prevents mistakes, not an attacker on the network.
- \`signed\`: the routes that manage users, vols, partitions, nodes and the master group need a
  request signed by a user of the right type, with the Go GraphQL console API's rules (root and
  admin users manage users; a normal user sees only itself). Everything the nodes, the SDK and
  the objectnode call unsigned stays open, except the user views: the objectnode cannot run
  against a master in this mode, and cfs-cli keeps only its read and authKey commands.

## Callers and signatures

A signed request carries three headers (\`src/api/root-auth.ts\`):
\`${ROOT_AUTH_HEADERS.accessKey}\` (the user's access key), \`${ROOT_AUTH_HEADERS.date}\` (unix ms, within
${ROOT_AUTH_CLOCK_SKEW_MAX_MS / 60_000} minutes of the master's clock) and \`${ROOT_AUTH_HEADERS.signature}\`: hex HMAC-SHA256 with the
user's secret key over \`METHOD\\npath-and-query\\ndate\\nhex-sha256(body)\`. A caller is
**anonymous** (no signature), or a **normal** (type 3), **admin** (type 2) or **root** (type 1) user.

| rule | anonymous | normal | admin | root |
|---|---|---|---|---|
${(['open', 'authKey', 'self-or-admin', 'admin', 'root'] as const).map((r) => `| ${ruleText(r)} | ${cells(r)} |`).join('\n')}

✓: the handler answers (0 on success, or its own code); 57: refused with code 57 (NoPermission,
HTTP 200) and a message naming the route, the signer it needs and what was wrong (no or bad
signature, or the signer's type). authKey (34): any caller, with the vol owner's authKey, checked
by the handler in Go's order (a wrong key answers 34). self: a normal user may read its own record
(\`user\` or \`ak\` names it); the root user's record is root's alone (an admin holding
root's secret key could sign as root). A signature on a route that needs none is ignored. Signatures are
checked on the member that receives the request, and again by the leader when it is forwarded.

Limits on the input of every route (sizes, counts, rates) are in \`docs/limits.md\`.`);
  let group = '';
  for (const r of ROUTE_ACCESS) {
    if (r.group !== group) {
      group = r.group;
      out.push('', `## ${group}`, '', '| route | methods | cubefs rule | anonymous | normal | admin | root | signed rule | anonymous | normal | admin | root | notes |', '|---|---|---|---|---|---|---|---|---|---|---|---|---|');
    }
    out.push(row(r));
  }
  return `${out.join('\n')}\n`;
}

function isMain(): boolean {
  return process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href;
}

if (isMain()) {
  const root = fileURLToPath(new URL('../../../', import.meta.url));
  const text = renderAccessRulesDoc();
  if (process.argv.includes('--write')) writeFileSync(resolve(root, ACCESS_RULES_DOC_PATH), text);
  else process.stdout.write(text);
}
