// A history file that cannot be read: bad input, reported with where it is, never a crash.

import { ParamError } from '../../../../src/util/errors.js';

export class HistoryParseError extends ParamError {
  constructor(
    readonly file: string,
    readonly lineNumber: number,
    message: string,
  ) {
    super('history', `${file}:${lineNumber}: ${message}`);
  }
}
