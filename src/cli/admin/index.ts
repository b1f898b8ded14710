// The admin commands over the HTTP API (docs/cli.md), registered on the program by main.ts.
import type { Command } from 'commander';
import { registerCheckConfigCommand } from './check-config-command.js';
import { registerCompletionCommand } from './completion-command.js';
import { registerMembersCommands } from './members-command.js';
import { registerNodeCommands } from './node-command.js';
import { registerSnapshotCommands } from './snapshot-command.js';
import { registerUserCommands } from './user-command.js';
import { registerVolCommands } from './vol-command.js';

export { EXIT } from './errors.js';

export function registerAdminCommands(program: Command): void {
  registerMembersCommands(program);
  registerVolCommands(program);
  registerNodeCommands(program);
  registerUserCommands(program);
  registerSnapshotCommands(program);
  registerCheckConfigCommand(program);
  registerCompletionCommand(program);
}
