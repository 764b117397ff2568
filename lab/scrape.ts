import type { Lab } from './lab.ts';

// The Prometheus scrape config for the twin: one job, one target per service's
// /metrics. Series carry their `service` label from the twin itself.

export const TWIN_JOB = 'myhero-twin';

export function twinScrapeConfig(targets: Lab['metricsTargets'], scrapeInterval = '5s'): object {
  return {
    global: { scrape_interval: scrapeInterval, evaluation_interval: scrapeInterval },
    scrape_configs: [
      {
        job_name: TWIN_JOB,
        metrics_path: '/metrics',
        static_configs: targets.map((t) => ({ targets: [new URL(t.url).host] })),
      },
    ],
  };
}
