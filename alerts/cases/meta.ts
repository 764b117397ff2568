import type { AlertCase } from './case.ts';

export function metaCases(): AlertCase[] {
  return [
    {
      alert: 'Watchdog',
      name: 'always fires, with no input at all',
      series: [],
      evalTime: '1m',
      expect: [
        {
          labels: { severity: 'none' },
          summary: 'Alerting pipeline heartbeat',
          description:
            "This alert always fires. If a dead man's switch stops receiving it, Prometheus, its rules or its path to Alertmanager are broken.",
        },
      ],
    },
  ];
}
