// A few error classes with a code; the CLI's one top-level handler maps them to
// exit codes. Nothing deep in the code calls process.exit.
export type ErrorCode =
  | 'invalid-fleet'
  | 'invalid-input'
  | 'loopback-only'
  | 'not-found'
  | 'lock-held'
  | 'remote-command'
  | 'unreachable'
  | 'internal';

export class FleetError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'FleetError';
  }
}
