import { createProgram, runCli } from '../lib/cli.ts';
import { registerLabServices } from './service-cli.ts';

// Entry point of the lab's service processes: the same commands as
// `myhero-ops lab service <name>`, without loading the rest of the CLI, so a
// restarted ernst is back within a fraction of a second.
const program = createProgram();
registerLabServices(program);
await runCli(program, process.argv);
