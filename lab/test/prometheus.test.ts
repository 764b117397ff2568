import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { startLab, type Lab } from '../lab.ts';
import { startPrometheus, type RunningPrometheus } from '../promstack.ts';
import { twinScrapeConfig } from '../scrape.ts';
import { castVotes, waitForRecorded } from './fixtures/votes.ts';

// The real Prometheus scraping the twin in queue mode: RED per route template,
// and the queue backlog as published − processed in PromQL.

let lab: Lab;
let prom: RunningPrometheus;

beforeAll(async () => {
  lab = await startLab({ mode: 'queue', dataPort: 0, appPort: 0, mqttPort: 0 });
  prom = await startPrometheus({ config: twinScrapeConfig(lab.metricsTargets, '1s') });
});
afterAll(async () => {
  await prom?.stop();
  await lab?.stop();
});

describe('the twin under a real Prometheus', () => {
  it('every service is scraped, and the backlog drains to zero after N votes', async () => {
    await prom.waitFor('sum(up)', (s) => s[0]?.value === 3, 20_000);
    expect(await castVotes(lab.appUrl, 60)).toBe(60);
    await waitForRecorded(lab.dataUrl, 60);
    const backlog = `sum(${TWIN.votesPublished}) - sum(${TWIN.votesProcessed})`;
    await prom.waitFor(`sum(${TWIN.votesPublished})`, (s) => s[0]?.value === 60, 20_000);
    await prom.waitFor(backlog, (s) => s[0]?.value === 0, 20_000);
    await prom.waitFor(`sum(${TWIN.votesRecorded})`, (s) => s[0]?.value === 60, 20_000);
    const routes = await prom.query(`sum by (service, route) (${TWIN.httpRequests}{route="/vote/:hero"})`);
    expect(routes.map((s) => [s.metric.service, s.value]).sort()).toEqual([
      ['app', 60],
      ['data', 60],
    ]);
    const mode = await prom.query(`${TWIN.appMode} == 1`);
    expect(mode.map((s) => s.metric.mode)).toEqual(['queue']);
  });
});
