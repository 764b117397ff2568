import type { Command } from 'commander';
import { defineGroup } from '../lib/cli.ts';

export function registerLab(program: Command): void {
  defineGroup(program, 'lab', 'The local lab: a faithful myhero twin, an MQTT broker, Prometheus and Alertmanager');
}
