import type { Command } from 'commander';

// Each capability folder owns its commands; this file only lists them.
// A folder's modules are loaded only when one of its commands is invoked:
// the Kubernetes client alone costs seconds of start-up on a Raspberry Pi.
type Register = (program: Command) => void;
const FOLDERS: { commands: string[]; load: () => Promise<Register> }[] = [
  { commands: ['lab'], load: async () => (await import('../lab/cli.ts')).registerLab },
  { commands: ['loadtest', 'demo'], load: async () => (await import('../loadtests/cli.ts')).registerLoadtests },
  { commands: ['exporter'], load: async () => (await import('../exporters/cli.ts')).registerExporter },
  { commands: ['alerts'], load: async () => (await import('../alerts/cli.ts')).registerAlerts },
  { commands: ['chaos'], load: async () => (await import('../chaos/cli.ts')).registerChaos },
  { commands: ['dashboards'], load: async () => (await import('../dashboards/cli.ts')).registerDashboards },
];

/** The command the user asked for: the first word that is not a global option (or the word after `help`). */
function requestedCommand(args: string[]): string | undefined {
  const withValue = new Set(['--config', '--log-level']);
  const words = args.filter((a, i) => !a.startsWith('-') && !withValue.has(args[i - 1] ?? ''));
  return words[0] === 'help' ? words[1] : words[0];
}

/**
 * Register the commands `args` asks for on `program`: only the owning folder's, or every
 * folder's when the command is unknown or missing (so help lists them all).
 */
export async function registerCommands(program: Command, args: string[]): Promise<void> {
  const wanted = requestedCommand(args);
  const owner = FOLDERS.find((f) => f.commands.includes(wanted ?? ''));
  for (const folder of owner ? [owner] : FOLDERS) (await folder.load())(program);
}
