import { createProgram, runCli } from './cli.ts';
import { registerLab } from '../lab/cli.ts';
import { registerLoadtests } from '../loadtests/cli.ts';
import { registerExporter } from '../exporters/cli.ts';
import { registerAlerts } from '../alerts/cli.ts';
import { registerChaos } from '../chaos/cli.ts';
import { registerDashboards } from '../dashboards/cli.ts';

// Each capability folder owns its commands; this file only assembles them.
const program = createProgram();
registerLab(program);
registerLoadtests(program);
registerExporter(program);
registerAlerts(program);
registerChaos(program);
registerDashboards(program);

await runCli(program, process.argv);
