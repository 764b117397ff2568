import { createProgram, runCli } from './cli.ts';
import { registerCommands } from './commands.ts';

const program = createProgram();
await registerCommands(program, process.argv.slice(2));
await runCli(program, process.argv);
