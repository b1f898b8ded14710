// `cubemaster user list|info|create|delete`: the user routes cfs-cli uses (spec 8.1). Secret keys
// are shown only when asked for (--show-keys), and always in --json (scripts need them).
import type { Command } from 'commander';
import { adminAction, withClientOptions, type AdminContext } from './context.js';
import { UsageError } from './errors.js';
import { fields, table } from './output.js';

interface UserInfo {
  readonly user_id: string;
  readonly access_key: string;
  readonly secret_key: string;
  readonly user_type: number;
  readonly create_time: string;
  readonly description: string;
  readonly policy: { readonly own_vols: readonly string[]; readonly authorized_vols: Readonly<Record<string, readonly string[]>> };
}

const USER_TYPES: Readonly<Record<number, string>> = { 1: 'root', 2: 'admin', 3: 'normal' };
const TYPE_CODES: Readonly<Record<string, number>> = { admin: 2, normal: 3 };

export function registerUserCommands(program: Command): void {
  const user = program.command('user').description('users: list, info, create, delete');
  withClientOptions(user.command('list'))
    .description('every user (with --keyword, those whose id contains it)')
    .option('--keyword <text>', 'only ids containing this')
    .action(adminAction(async (ctx, options: { keyword?: string }) => list(ctx, options.keyword ?? '')));
  withClientOptions(user.command('info <id>'))
    .description("a user's type, keys and volumes")
    .option('--show-keys', 'print the secret key too')
    .action(adminAction(async (ctx, id: string, options: { showKeys?: boolean }) => info(ctx, id, options.showKeys === true)));
  withClientOptions(user.command('create <id>'))
    .description('create a user (keys generated unless given)')
    .option('--type <type>', 'normal or admin', 'normal')
    .option('--password <pwd>', 'password (default: CubeFS\'s)')
    .option('--user-access-key <ak>', 'the new user\'s access key (16 alphanumerics)')
    .option('--user-secret-key <sk>', 'the new user\'s secret key (32 alphanumerics)')
    .option('--description <text>', 'free text')
    .action(adminAction(create));
  withClientOptions(user.command('delete <id>'))
    .description('delete a user (refused while it owns volumes)')
    .action(adminAction(async (ctx, id: string) => {
      const message = await ctx.client.call<string>('/user/delete', { method: 'POST', query: { user: id } });
      ctx.out.result({ id, message }, () => `${message}\n`);
    }));
}

async function list(ctx: AdminContext, keyword: string): Promise<void> {
  const users = await ctx.client.call<UserInfo[]>('/user/list', { query: { keywords: keyword } });
  ctx.out.result(users, () =>
    table(users, [
      { header: 'ID', value: (u) => u.user_id },
      { header: 'TYPE', value: (u) => USER_TYPES[u.user_type] ?? u.user_type },
      { header: 'ACCESS KEY', value: (u) => u.access_key },
      { header: 'VOLS', value: (u) => u.policy.own_vols.length, align: 'right' },
      { header: 'CREATED', value: (u) => u.create_time },
    ]),
  );
}

async function info(ctx: AdminContext, id: string, showKeys: boolean): Promise<void> {
  const u = await ctx.client.call<UserInfo>('/user/info', { query: { user: id } });
  ctx.out.result(u, () => userFields(u, showKeys));
}

function userFields(u: UserInfo, showKeys: boolean): string {
  return fields([
    ['id', u.user_id],
    ['type', USER_TYPES[u.user_type] ?? u.user_type],
    ['access key', u.access_key],
    ['secret key', showKeys ? u.secret_key : '(hidden: --show-keys)'],
    ['own vols', u.policy.own_vols.join(', ')],
    ['authorized vols', Object.keys(u.policy.authorized_vols).join(', ')],
    ['created', u.create_time],
    ['description', u.description],
  ]);
}

async function create(
  ctx: AdminContext,
  id: string,
  o: { type: string; password?: string; userAccessKey?: string; userSecretKey?: string; description?: string },
): Promise<void> {
  const type = TYPE_CODES[o.type];
  if (type === undefined) throw new UsageError(`--type must be normal or admin, got "${o.type}"`);
  const body = { id, pwd: o.password ?? '', ak: o.userAccessKey ?? '', sk: o.userSecretKey ?? '', type, description: o.description ?? '' };
  const u = await ctx.client.call<UserInfo>('/user/create', { body });
  ctx.out.result(u, () => userFields(u, false));
}
