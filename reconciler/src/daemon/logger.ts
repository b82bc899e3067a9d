// The daemon's logger: one JSON line per event (pino), pretty lines for a
// person at a terminal. Messages are fixed strings; details go in fields:
// `log.info({ node, model, bytes }, 'model pulled')`. Secrets never reach a line.
import { createRequire } from 'node:module';
import { pino } from 'pino';
import type { DestinationStream, Level, Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

export type { Logger } from 'pino';
export type LogLevel = Level | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Paths pino blanks out. Field names chosen so callers can log whole option
 * objects, HTTP headers or errors without thinking about what is inside.
 */
export const REDACT_PATHS: readonly string[] = [
  'secret', '*.secret',
  'webhook_secret', '*.webhook_secret', 'webhookSecret', '*.webhookSecret',
  'password', '*.password', 'passphrase', '*.passphrase',
  'token', '*.token',
  'private_key', '*.private_key', 'privateKey', '*.privateKey',
  'authorization', '*.authorization', '*.headers.authorization', 'headers.authorization',
  'headers["x-hub-signature-256"]', '*.headers["x-hub-signature-256"]',
  'headers["x-hub-signature"]', '*.headers["x-hub-signature"]',
  'headers.cookie', '*.headers.cookie',
];

export interface LoggerOptions {
  level?: LogLevel;
  /** true: pino-pretty; false: JSON lines; 'auto' (default): pretty when the destination is a TTY. */
  pretty?: boolean | 'auto';
  /** Where lines go (default stdout). Tests pass a stream to read the lines back. */
  destination?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Bound to every line, e.g. { name: 'fleetd' }. */
  base?: Record<string, unknown>;
}

export function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const destination = options.destination ?? process.stdout;
  const usePretty = options.pretty === 'auto' || options.pretty === undefined ? destination.isTTY === true : options.pretty;
  const pinoOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid, ...(options.base ?? {}) },
    redact: { paths: [...REDACT_PATHS], censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  // pino-pretty as an in-process stream (not a worker transport): lines are
  // written synchronously, so nothing is lost when the daemon stops. Loaded
  // only for a terminal: the daemon under launchd never needs its ~30 modules.
  const stream: DestinationStream = usePretty
    ? loadPretty()({ destination, colorize: destination.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname', sync: true })
    : destination;
  return pino(pinoOptions, stream);
}

function loadPretty(): typeof PinoPretty {
  return createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
}
