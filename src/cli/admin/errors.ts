// What an admin command can fail with, each with the exit code scripts rely on (docs/cli.md):
//   0 done; 1 the cluster refused (its CubeFS code in the message); 2 usage error (bad flag or
//   argument); 3 no master reachable, or no leader; 4 authentication refused (root keys missing
//   or wrong); 5 a local problem (invalid config, unreadable or corrupt snapshot file, target
//   directory not empty); 6 timed out waiting (a member catching up, a decommission).
export const EXIT = {
  ok: 0,
  refused: 1,
  usage: 2,
  unreachable: 3,
  auth: 4,
  local: 5,
  timeout: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export class CliError extends Error {
  constructor(
    readonly exitCode: ExitCode,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** The cluster answered with code != 0. */
export class RefusedError extends CliError {
  constructor(
    readonly code: number,
    readonly msg: string,
    readonly route: string,
  ) {
    super(EXIT.refused, `${route} refused: code ${code}: ${msg}`);
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(EXIT.usage, message);
  }
}

export class UnreachableError extends CliError {
  constructor(message: string) {
    super(EXIT.unreachable, message);
  }
}

export class AuthError extends CliError {
  constructor(message: string) {
    super(EXIT.auth, message);
  }
}

export class LocalError extends CliError {
  constructor(message: string) {
    super(EXIT.local, message);
  }
}

export class WaitTimeoutError extends CliError {
  constructor(message: string) {
    super(EXIT.timeout, message);
  }
}
