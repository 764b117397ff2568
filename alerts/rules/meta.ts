import type { RuleGroup } from '../rule.ts';

// The heartbeat: an alert that always fires, so the whole path Prometheus →
// Alertmanager → receiver can be watched from outside. Alertmanager routes it
// away from people (alertmanager.ts).

export const WATCHDOG = 'Watchdog';

export function metaRules(): RuleGroup {
  return {
    name: 'myhero-ops.meta',
    interval: '1m',
    alerts: [
      {
        name: WATCHDOG,
        expr: 'vector(1)',
        for: '0s',
        severity: 'none',
        alwaysFires: true,
        summary: 'Alerting pipeline heartbeat',
        description:
          'This alert always fires. If a dead man\'s switch stops receiving it, Prometheus, its rules or its path to Alertmanager are broken.',
      },
    ],
  };
}
