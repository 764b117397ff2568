import { describe, expect, it } from 'vitest';
import { buildDashboards } from '../registry.ts';
import { DEFAULT_THRESHOLDS, defaultMonitoring } from '../../lib/monitoring.ts';

// The red budget line of a panel that links an alert's runbook sits at that alert's threshold.
const ALERT_THRESHOLDS: Record<string, number> = {
  MyheroErrorRatioHigh: DEFAULT_THRESHOLDS.errorRatio,
  MyheroLatencyP99High: DEFAULT_THRESHOLDS.appLatencyP99Seconds,
};

interface PanelJson {
  title?: string;
  links?: { url: string }[];
  fieldConfig?: { defaults?: { thresholds?: { steps: { value: number | null; color: string }[] } } };
}

describe('budget lines', () => {
  it('put the red line of error-ratio and latency panels at the alert thresholds', () => {
    let checked = 0;
    for (const { json } of buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/runbooks' }))) {
      for (const panel of (json.panels ?? []) as PanelJson[]) {
        const alert = Object.keys(ALERT_THRESHOLDS).find((a) => panel.links?.some((l) => l.url.endsWith(`/${a}.md`)));
        if (!alert) continue;
        const red = panel.fieldConfig?.defaults?.thresholds?.steps.find((s) => s.color === 'red');
        // Panels that only link the runbook (e.g. failed votes per second) draw no budget.
        if (!red) continue;
        expect(red?.value, `${panel.title} (${alert})`).toBe(ALERT_THRESHOLDS[alert]);
        checked += 1;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });
});
