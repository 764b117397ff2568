import { Command, CommanderError } from 'commander';
import { addSettings, checkSectionKeys, checkSectionNames, loadConfigFile, redactSettings, resolveSettings, sectionOf, type Resolved, type Spec } from './config.ts';
import { EXIT, UserError, describeError } from './errors.ts';
import { createLogger, type Logger } from './log.ts';
import { pendingRestores } from './restore.ts';

// The CLI frame every command is declared in: settings from the shared config
// loader, one logger, a shared abort signal for Ctrl-C, and one-line errors.

export interface RunContext {
  log: Logger;
  /** Aborted on the first Ctrl-C/SIGTERM: stop work, restore, write partial results, return. */
  signal: AbortSignal;
  /** Where results go (stdout); logs and progress go to stderr. */
  out: (text: string) => void;
}

export interface CommandDef<S extends Spec> {
  name: string;
  summary: string;
  /** Longer help text shown by `--help`. */
  help?: string;
  /** Positional arguments, commander syntax: `<file>`, `[dir]`. */
  args?: string[];
  /** Section of the YAML config file this command reads, e.g. `loadtest`. */
  section: string;
  spec: S;
  /** Returns the exit code (0 when omitted). */
  run: (cfg: Resolved<S>, ctx: RunContext, args: string[]) => Promise<number | void>;
}

const shutdown = new AbortController();

/** The settings every registered command reads from each config-file section (commands share sections). */
const sectionKeys = new Map<string, Set<string>>();

/** Sections read by commands not registered in this process (only the invoked folder is loaded). */
const declaredSections = new Set<string>();

/** Name the config-file sections of every command, registered here or not, so an unknown one is refused. */
export function declareConfigSections(names: readonly string[]): void {
  for (const n of names) declaredSections.add(n);
}

/** `myhero-ops alerts test`, not `myhero-ops test`: several groups have a `build`, a `run`, a `test`. */
const commandPath = (c: Command): string => (c.parent ? `${commandPath(c.parent)} ${c.name()}` : c.name());

/** The config-file sections the commands registered in this process read. */
export const registeredSections = (): string[] => [...sectionKeys.keys()];

/** Add a command to `parent`. Settings are declared once in `spec` and resolved with file/env/flag precedence. */
export function defineCommand<S extends Spec>(parent: Command, def: CommandDef<S>): Command {
  // A setting lives in the command's section, or in the shared section it names.
  const sectionsRead = new Set<string>([def.section, ...Object.values(def.spec).map((s) => s.section ?? def.section)]);
  const undeclared = declaredSections.size ? [...sectionsRead].filter((s) => !declaredSections.has(s)) : [];
  if (undeclared.length) throw new Error(`command ${def.name} reads config section ${undeclared.join(', ')}, which lib/commands.ts does not list`);
  for (const section of sectionsRead) if (!sectionKeys.has(section)) sectionKeys.set(section, new Set());
  for (const [key, s] of Object.entries(def.spec)) sectionKeys.get(s.section ?? def.section)!.add(key);
  const cmd = parent.command(def.name).summary(def.summary).description(def.help ?? def.summary);
  for (const a of def.args ?? []) cmd.argument(a);
  addSettings(cmd, def.spec);
  cmd.action(async (...params: unknown[]) => {
    const self = params[params.length - 1] as Command;
    const globals = self.optsWithGlobals<{ config?: string; logLevel?: string }>();
    const file = loadConfigFile(globals.config);
    checkSectionNames(file, new Set([...declaredSections, ...registeredSections()]));
    const cfg = resolveSettings(def.spec, { file: sectionOf(file, def.section), sections: file, flags: self.opts() });
    for (const section of sectionsRead) checkSectionKeys(section, sectionOf(file, section), sectionKeys.get(section)!);
    const log = createLogger(commandPath(self), { level: globals.logLevel });
    // What the command runs with, after default < file < env < flag. Secret settings are
    // masked by their spec, whatever their name (the logger's own redaction goes by name).
    log.debug({ settings: redactSettings(def.spec, cfg) }, 'effective settings');
    const code = await def.run(cfg, { log, signal: shutdown.signal, out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`) }, self.args);
    process.exitCode = typeof code === 'number' ? code : shutdown.signal.aborted ? EXIT.interrupted : EXIT.passed;
  });
  return cmd;
}

/** A command that only groups subcommands (`lab`, `loadtest`, ...). */
export function defineGroup(parent: Command, name: string, summary: string): Command {
  return parent.command(name).summary(summary).description(summary);
}

export function createProgram(): Command {
  return new Command('myhero-ops')
    .description('Observability, load-testing and chaos suite for the myhero voting app on Kubernetes')
    .option('--config <file>', 'YAML config file with a section per command [env: MYHERO_OPS_CONFIG] (default: ./myhero-ops.yaml if present)')
    .option('--log-level <level>', 'trace|debug|info|warn|error|silent [env: LOG_LEVEL]')
    .showHelpAfterError('(run with --help for usage)')
    // Set before any subcommand is added so every command inherits it.
    .exitOverride();
}

function installSignalHandlers(): void {
  let count = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    count += 1;
    if (count === 1) {
      process.stderr.write(`\nmyhero-ops: ${sig} received, stopping and restoring (press Ctrl-C again to force)\n`);
      shutdown.abort(new Error(sig));
    } else {
      process.stderr.write('myhero-ops: forced exit\n');
      const left = pendingRestores();
      if (left.length) process.stderr.write(`myhero-ops: NOT restored; run these to restore:\n${left.map((c) => `  ${c}\n`).join('')}`);
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/**
 * The exit code an error thrown out of a command means. commander reports help and
 * version as "errors" with code 0; every other commander error is a usage error (unknown
 * option or command, missing argument, bad choice) and exits 2 like any bad input. An
 * error nobody classified stopped the run before a verdict: 3, never 1, which is kept
 * for a threshold or verdict that failed.
 */
export function exitCodeOf(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.passed : EXIT.badInput;
  if (err instanceof UserError) return err.exitCode;
  return EXIT.unjudged;
}

/** Run the CLI: every error becomes one line on stderr and a non-zero exit. */
export async function runCli(program: Command, argv: string[]): Promise<never> {
  installSignalHandlers();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    process.exitCode = exitCodeOf(err);
    // commander has already printed its own one-line usage error (and help on request).
    if (!(err instanceof CommanderError)) process.stderr.write(`myhero-ops: ${err instanceof UserError ? err.message : describeError(err)}\n`);
    if (process.env.MYHERO_OPS_DEBUG && err instanceof Error && !(err instanceof UserError || err instanceof CommanderError)) process.stderr.write(`${err.stack}\n`);
  }
  // Long-running commands own servers and timers; once the command has returned, exit promptly.
  await new Promise((r) => process.stdout.write('', r));
  process.exit(process.exitCode ?? 0);
}
