// The logging surface the storage layer needs. A pino logger satisfies it; tests pass a recorder.
// Structured: the first argument carries the fields an operator filters on, the second the event.

export interface StoreLogger {
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
  error(fields: object, msg: string): void;
}
