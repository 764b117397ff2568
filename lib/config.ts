import { existsSync, readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Command } from 'commander';
import { UserError, describeError } from './errors.ts';
import type { Parser } from './parse.ts';

// One config loader for every command. A setting's value comes from, lowest
// precedence first: its default, the YAML config file (section per command),
// its env vars, then its command-line flag.

export interface Setting<T> {
  /** Commander flag, e.g. `--voters <n>` or `--json`. */
  flag: string;
  describe: string;
  default: T;
  parse: Parser<T>;
  /** Env vars read for this setting, first one set wins. */
  env?: readonly string[];
  /** Never shown in help defaults, logs or reports. */
  secret?: boolean;
  /** How help shows the default when its value reads badly, e.g. `30s` for a duration held in ms ('' = not shown). */
  shown?: string;
  /**
   * Config-file section holding this setting when several commands share it
   * (e.g. `monitoring`, read by alerts and dashboards), instead of the command's own.
   */
  section?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Spec = Record<string, Setting<any>>;
export type Resolved<S extends Spec> = { [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export function setting<T>(s: Setting<T>): Setting<T> {
  return s;
}

/** Config file: `--config FILE`, else $MYHERO_OPS_CONFIG, else ./myhero-ops.yaml when present. */
export function loadConfigFile(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): Record<string, unknown> {
  const path = explicit ?? env.MYHERO_OPS_CONFIG ?? (existsSync('myhero-ops.yaml') ? 'myhero-ops.yaml' : undefined);
  if (!path) return {};
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read config file ${path}: ${describeError(err)}`, 2);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UserError(`config file ${path} is not valid YAML: ${yamlErrorLine(err)}`, 2);
  }
  if (doc == null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`config file ${path} must be a mapping of sections`, 2);
  return doc as Record<string, unknown>;
}

/**
 * A YAML parse error in one line. The yaml package's message goes on with the offending
 * lines after `at line L, column C:`; this keeps the first line, without that colon.
 */
export function yamlErrorLine(err: unknown): string {
  return describeError(err).split('\n')[0]!.replace(/:$/, '');
}

/** The commander attribute name of a flag: `--drain-timeout <d>` → `drainTimeout`, `--no-x` → `x`. */
function attributeOf(flag: string): string {
  const long = /--(?:no-)?([a-z0-9-]+)/.exec(flag)?.[1];
  if (!long) throw new Error(`setting flag without a long name: ${flag}`);
  return long.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function showDefault(s: Setting<unknown>): string {
  if (s.secret || s.default === undefined || s.default === '' || s.default === false) return '';
  if (s.shown !== undefined) return s.shown ? ` (default: ${s.shown})` : '';
  const v = Array.isArray(s.default) ? s.default.join(',') : String(s.default);
  return ` (default: ${v})`;
}

/** Declare a spec's settings as options of a command, with defaults and env vars in the help. */
export function addSettings(cmd: Command, spec: Spec): Command {
  for (const s of Object.values(spec)) {
    const env = s.env?.length ? ` [env: ${s.env.join(', ')}]` : '';
    cmd.option(s.flag, `${s.describe}${showDefault(s)}${env}`);
  }
  return cmd;
}

function fromFile(value: unknown): string | undefined {
  if (value == null) return undefined;
  if (Array.isArray(value)) return value.map(String).join(',');
  return String(value);
}

export interface Sources {
  /** The section of the config file for this command. */
  file?: Record<string, unknown>;
  /** The whole config file, for settings that live in a shared section. */
  sections?: Record<string, unknown>;
  env?: NodeJS.ProcessEnv;
  /** Commander's parsed options (`cmd.opts()`). */
  flags?: Record<string, unknown>;
}

/** A section of the config file as a mapping; anything else is bad input. */
export function sectionOf(file: Record<string, unknown> | undefined, name: string): Record<string, unknown> | undefined {
  const section = file?.[name];
  if (section == null) return undefined;
  if (typeof section !== 'object' || Array.isArray(section)) throw new UserError(`config file: section "${name}" must be a mapping of settings`, 2);
  return section as Record<string, unknown>;
}

/** Resolve every setting of a spec: default < file < env < flag. */
export function resolveSettings<S extends Spec>(spec: S, sources: Sources): Resolved<S> {
  const env = sources.env ?? process.env;
  const out: Record<string, unknown> = {};
  for (const [key, s] of Object.entries(spec)) {
    const name = s.flag.split(/[ ,]/).find((p) => p.startsWith('--')) ?? key;
    let value: unknown = s.default;
    if (s.section && sources.file?.[key] !== undefined) {
      throw new UserError(`config file: "${key}" belongs in the "${s.section}" section, which every command reading it shares; move it there`, 2);
    }
    const section = s.section ? sectionOf(sources.sections, s.section) : sources.file;
    const fileRaw = fromFile(section?.[key]);
    if (fileRaw !== undefined) value = s.parse(fileRaw, `${name} (config file${s.section ? `, section ${s.section}` : ''})`);
    const envName = s.env?.find((e) => env[e] !== undefined && env[e] !== '');
    if (envName) value = s.parse(env[envName]!, envName);
    const flag = sources.flags?.[attributeOf(s.flag)];
    if (flag !== undefined) value = typeof flag === 'string' ? s.parse(flag, name) : flag;
    out[key] = value;
  }
  return out as Resolved<S>;
}

/**
 * Refuse keys of a config-file section that no command reading that section knows:
 * a typo (`pol: 1s` for `poll`) must not be silently ignored.
 */
export function checkSectionKeys(section: string, values: Record<string, unknown> | undefined, known: ReadonlySet<string>): void {
  for (const key of Object.keys(values ?? {})) {
    if (!known.has(key)) {
      throw new UserError(`config file: unknown key "${key}" in section ${section} (known: ${[...known].sort().join(', ')})`, 2);
    }
  }
}

/** Refuse a top-level section of the config file that no command reads (`loadtests:` for `loadtest:`). */
export function checkSectionNames(file: Record<string, unknown>, known: ReadonlySet<string>): void {
  for (const name of Object.keys(file)) {
    if (!known.has(name)) throw new UserError(`config file: unknown section "${name}" (known: ${[...known].sort().join(', ')})`, 2);
  }
}

/** The settings with secrets masked, for logs and reports. */
export function redactSettings<S extends Spec>(spec: S, values: Resolved<S>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(values).map(([k, v]) => [k, spec[k]?.secret && v ? '[redacted]' : v]),
  );
}
