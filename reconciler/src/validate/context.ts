// What every semantic rule gets: the fleet as loaded, today's date, and a way
// to turn "this value in that document" into file:line:col.
import type { PathSegment } from '../model/problem.ts';
import type { FleetSettingsDoc, Hardware, ModelFacts, NodeDoc, RetiredDoc, RoleDoc } from '../schema/fleet.ts';
import type { Problem, Severity } from '../model/problem.ts';

/**
 * The fleet as the rules see it. A Desired is one; a part whose file did not
 * load is null (settings, catalogs) or missing (a role, a node), and the rules
 * that need it are skipped instead of reporting noise.
 */
export interface FleetModel {
  settings: FleetSettingsDoc | null;
  roles: Readonly<Record<string, RoleDoc>>;
  hardware: Readonly<Record<string, Hardware>> | null;
  /** Keyed by normalised reference (`name:tag`). */
  models: Readonly<Record<string, ModelFacts>> | null;
  nodes: readonly NodeDoc[];
  retired: RetiredDoc['retired'];
}

export type DocRef =
  | { kind: 'settings' }
  | { kind: 'hardware' }
  | { kind: 'models' }
  | { kind: 'retired' }
  | { kind: 'role'; name: string }
  | { kind: 'node'; node: NodeDoc };

export interface Location {
  file: string;
  line: number;
  col: number;
}

/** Where a value is; `at: 'key'` points at its key. */
export type Locate = (doc: DocRef, path: readonly PathSegment[], at?: 'key' | 'value') => Location;

export interface ValidateOptions {
  /** YYYY-MM-DD; name reuse is judged relative to it. */
  today: string;
  /** Source positions; without it problems point at line 1 of the conventional file. */
  locate?: Locate;
  /** Roles whose file exists but did not load: nodes naming them are not "unknown role". */
  brokenRoles?: ReadonlySet<string>;
}

export function conventionalFile(doc: DocRef): string {
  switch (doc.kind) {
    case 'settings': return 'fleet/fleet.yaml';
    case 'hardware': return 'fleet/catalog/hardware.yaml';
    case 'models': return 'fleet/catalog/models.yaml';
    case 'retired': return 'fleet/retired.yaml';
    case 'role': return `fleet/roles/${doc.name}.yaml`;
    case 'node': return `fleet/nodes/${doc.node.name}.yaml`;
  }
}

export class RuleContext {
  readonly fleet: FleetModel;
  readonly today: string;
  readonly brokenRoles: ReadonlySet<string>;
  readonly problems: Problem[] = [];
  private readonly locateFn: Locate;

  constructor(fleet: FleetModel, options: ValidateOptions) {
    this.fleet = fleet;
    this.today = options.today;
    this.brokenRoles = options.brokenRoles ?? new Set();
    this.locateFn = options.locate ?? ((doc) => ({ file: conventionalFile(doc), line: 1, col: 1 }));
  }

  locate(doc: DocRef, path: readonly PathSegment[], at: 'key' | 'value' = 'value'): Location {
    return this.locateFn(doc, path, at);
  }

  /** "fleet/nodes/maestro.yaml:6:5", for messages that point elsewhere. */
  where(doc: DocRef, path: readonly PathSegment[], at: 'key' | 'value' = 'value'): string {
    const l = this.locate(doc, path, at);
    return `${l.file}:${l.line}:${l.col}`;
  }

  report(doc: DocRef, path: readonly PathSegment[], severity: Severity, rule: string, message: string, at: 'key' | 'value' = 'value'): void {
    const l = this.locate(doc, path, at);
    this.problems.push({ file: l.file, line: l.line, col: l.col, severity, rule, message });
  }

  error(doc: DocRef, path: readonly PathSegment[], rule: string, message: string, at: 'key' | 'value' = 'value'): void {
    this.report(doc, path, 'error', rule, message, at);
  }

  warn(doc: DocRef, path: readonly PathSegment[], rule: string, message: string, at: 'key' | 'value' = 'value'): void {
    this.report(doc, path, 'warning', rule, message, at);
  }
}

export function nodeRef(node: NodeDoc): DocRef {
  return { kind: 'node', node };
}
