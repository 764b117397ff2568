import type { RuleContext } from '../rule.ts';
import type { AlertCase } from './case.ts';
import { kubernetesCases } from './kubernetes.ts';
import { metaCases } from './meta.ts';
import { myheroCases } from './myhero.ts';
import { piCases } from './pi.ts';

/** Every promtool unit-test case, for the rules built from the same context. */
export function alertCases(ctx: RuleContext): AlertCase[] {
  return [...(ctx.piAlerts === 'off' ? [] : piCases(ctx)), ...myheroCases(ctx), ...kubernetesCases(ctx), ...metaCases()];
}
