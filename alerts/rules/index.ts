import type { RuleContext, RuleGroup } from '../rule.ts';
import { kubernetesRules } from './kubernetes.ts';
import { metaRules } from './meta.ts';
import { myheroRules } from './myhero.ts';
import { piRules } from './pi.ts';

/** Every rule group the suite ships, in the order they are rendered. */
export function ruleGroups(ctx: RuleContext): RuleGroup[] {
  return [...(ctx.piAlerts === 'off' ? [] : [piRules(ctx)]), myheroRules(ctx), kubernetesRules(ctx), metaRules()];
}
