// Faults a simulated node can be switched into at run time (tests, demos,
// `fleet sim fault`). Each one reproduces what Bob would see from a real Mac.
import { FleetError } from '../errors.ts';

export const FAULT_KINDS = [
  'down',
  'hang',
  'slow',
  'ollama-down',
  'ollama-500',
  'pull-fail',
  'disk-full',
  'sudo-password',
  'host-key-rotated',
  'clock-skew',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];
export type FaultParams = Readonly<Record<string, string | number | boolean>>;

export const FAULT_HELP: Readonly<Record<FaultKind, string>> = {
  down: 'SSH and Ollama refuse connections (powered off, asleep, off the network)',
  hang: 'SSH and Ollama accept connections and never answer',
  slow: 'every connection, command and HTTP request waits ms (default 300) first',
  'ollama-down': 'ollama serve is not running (crashed; launchd cannot keep it up)',
  'ollama-500': 'Ollama answers every /api/* call with 500 (message=...)',
  'pull-fail': 'model pulls fail part way (afterFraction=0.4, once=true to fail once, message=...); partials stay and resume',
  'disk-full': 'the data volume has no free space (df, pulls, brew)',
  'sudo-password': 'sudo asks for a password: "sudo: a password is required"',
  'host-key-rotated': 'the node presents a new host key (a reset Mac)',
  'clock-skew': 'the node\'s clock is off by seconds (default 600; negative for behind)',
};

export function isFaultKind(value: string): value is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(value);
}

export function parseFaultKind(value: string): FaultKind {
  if (!isFaultKind(value)) {
    throw new FleetError('invalid-input', `unknown fault "${value}"; one of: ${FAULT_KINDS.join(', ')}`);
  }
  return value;
}

/** `key=value` words (CLI) to parameters; numbers and booleans are typed. */
export function parseFaultParams(words: readonly string[]): FaultParams {
  const out: Record<string, string | number | boolean> = {};
  for (const word of words) {
    const eq = word.indexOf('=');
    if (eq <= 0) throw new FleetError('invalid-input', `fault parameter "${word}" is not key=value`);
    const key = word.slice(0, eq);
    const raw = word.slice(eq + 1);
    out[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  }
  return out;
}

/** The parameter file the sh stand-ins read (`key=value` lines). */
export function renderFaultFile(params: FaultParams): string {
  return Object.entries(params).map(([k, v]) => `${k}=${String(v)}\n`).join('');
}

export function numberParam(params: FaultParams | undefined, key: string, fallback: number): number {
  const v = params?.[key];
  return typeof v === 'number' ? v : typeof v === 'string' && Number.isFinite(Number(v)) ? Number(v) : fallback;
}
