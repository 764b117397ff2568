import type { Command } from 'commander';
import { declareConfigSections } from './cli.ts';

// Each capability folder owns its commands; this file only lists them.
// A folder's modules are loaded only when one of its commands is invoked:
// the Kubernetes client alone costs seconds of start-up on a Raspberry Pi.
// `sections` names the config-file sections the folder's commands read, so a
// section no command reads (a typo such as `loadtests:`) is refused without
// loading the other folders (test/cli-usage.test.ts keeps the list true).
type Register = (program: Command) => void;
export const FOLDERS: { commands: string[]; sections: string[]; load: () => Promise<Register> }[] = [
  { commands: ['lab'], sections: ['lab', 'lab-data', 'lab-app', 'lab-ernst', 'lab-broker'], load: async () => (await import('../lab/cli.ts')).registerLab },
  { commands: ['loadtest', 'demo'], sections: ['loadtest', 'demo'], load: async () => (await import('../loadtests/cli.ts')).registerLoadtests },
  { commands: ['exporter'], sections: ['exporter'], load: async () => (await import('../exporters/cli.ts')).registerExporter },
  { commands: ['alerts'], sections: ['alerts', 'monitoring'], load: async () => (await import('../alerts/cli.ts')).registerAlerts },
  { commands: ['chaos'], sections: ['chaos'], load: async () => (await import('../chaos/cli.ts')).registerChaos },
  { commands: ['dashboards'], sections: ['dashboards', 'monitoring'], load: async () => (await import('../dashboards/cli.ts')).registerDashboards },
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
  declareConfigSections(FOLDERS.flatMap((f) => f.sections));
  const wanted = requestedCommand(args);
  const owner = FOLDERS.find((f) => f.commands.includes(wanted ?? ''));
  for (const folder of owner ? [owner] : FOLDERS) (await folder.load())(program);
}
