import { Command, CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { createProgram, defineCommand, exitCodeOf, registeredSections } from '../lib/cli.ts';
import { FOLDERS, registerCommands } from '../lib/commands.ts';
import { setting } from '../lib/config.ts';
import { string } from '../lib/parse.ts';
import { EXIT, UserError } from '../lib/errors.ts';
import { runCli } from './fixtures/cli.ts';

// Every usage error of every command exits 2, the same as any other bad input.
// The tree is walked from the registered program, so a new command is covered
// without editing this file.

async function fullProgram(): Promise<Command> {
  const program = createProgram();
  await registerCommands(program, []);
  return program;
}

/** Every command path below `cmd`, with the command itself. */
function walk(cmd: Command, path: string[] = []): { path: string[]; cmd: Command }[] {
  return cmd.commands.flatMap((c) => [{ path: [...path, c.name()], cmd: c }, ...walk(c, [...path, c.name()])]);
}

function silence(cmd: Command): void {
  cmd.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  for (const c of cmd.commands) silence(c);
}

/** The exit code the CLI would give `args`, without running any command's action. */
async function exitFor(args: string[]): Promise<number> {
  const program = await fullProgram();
  silence(program);
  // Usage errors are raised before an action runs; an action that does run is a test bug.
  for (const { cmd } of walk(program)) cmd.action(() => { throw new Error(`action of ${cmd.name()} ran for ${args.join(' ')}`); });
  try {
    await program.parseAsync(['node', 'myhero-ops', ...args]);
  } catch (err) {
    if (!(err instanceof CommanderError)) throw err;
    return exitCodeOf(err);
  }
  return EXIT.passed;
}

describe('usage errors exit 2 in every command', () => {
  it('an unknown option, in every command of the tree', async () => {
    const commands = walk(await fullProgram()).filter((c) => c.path.at(-1) !== 'help');
    expect(commands.length).toBeGreaterThan(20);
    for (const { path } of commands) expect(await exitFor([...path, '--no-such-option']), path.join(' ')).toBe(EXIT.badInput);
  });

  it('a missing required argument, an unknown command and an unknown subcommand', async () => {
    const withArgs = walk(await fullProgram()).filter((c) => c.cmd.registeredArguments.some((a) => a.required));
    expect(withArgs.length).toBeGreaterThan(0);
    for (const { path } of withArgs) expect(await exitFor(path), path.join(' ')).toBe(EXIT.badInput);
    expect(await exitFor(['no-such-command'])).toBe(EXIT.badInput);
    expect(await exitFor(['loadtest', 'no-such-command'])).toBe(EXIT.badInput);
  });

  it('help is not an error', async () => {
    expect(await exitFor(['--help'])).toBe(EXIT.passed);
    expect(await exitFor(['loadtest', 'run', '--help'])).toBe(EXIT.passed);
  });

  it('errors map to the documented codes: user errors keep theirs, anything unclassified could not be judged', () => {
    expect(exitCodeOf(new UserError('bad flag', EXIT.badInput))).toBe(2);
    expect(exitCodeOf(new UserError('target unreachable'))).toBe(EXIT.unjudged);
    expect(exitCodeOf(new TypeError('a bug'))).toBe(EXIT.unjudged);
  });

  it('the real binary: one usage line on stderr, exit 2, no stack trace', async () => {
    const r = await runCli(['chaos', 'pod-kill', '--bogus']);
    expect(r.code).toBe(EXIT.badInput);
    expect(r.stderr).toMatch(/^error: unknown option '--bogus'/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('the config sections lib/commands.ts lists', () => {
  it('are exactly the sections the commands of every folder read', async () => {
    await fullProgram(); // registration throws for a command that reads an unlisted section
    // A listed section that no command reads would let a typo of it pass.
    expect(registeredSections().sort()).toEqual([...new Set(FOLDERS.flatMap((f) => f.sections))].sort());
  });

  it('a command reading a section the list lacks is refused at registration (negative control)', async () => {
    await fullProgram();
    const spec = { x: setting({ flag: '--x <x>', describe: 'x', default: '', parse: string }) };
    expect(() => defineCommand(createProgram(), { name: 'stray', summary: 's', section: 'nowhere', spec, run: async () => {} })).toThrow(
      'command stray reads config section nowhere, which lib/commands.ts does not list',
    );
  });
});
