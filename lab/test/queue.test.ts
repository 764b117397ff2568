import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TWIN } from '../../lib/catalog.ts';
import { startLab, type Lab } from '../lab.ts';
import { startMosquitto, type RunningMosquitto } from './fixtures/mosquitto.ts';
import { parseExposition, valueOf } from '../../test/fixtures/exposition.ts';
import { castVotes, recorded, waitForRecorded } from './fixtures/votes.ts';

// Queue mode end to end, each service its own process: against the embedded
// Aedes broker and against the real Mosquitto. Every accepted vote is counted
// exactly once, also when ernst is killed (SIGKILL) and restarted mid-stream.

/** The value of a series of one of the lab's services, from its /metrics. */
const metricOf = async (lab: Lab, service: string, name: string) =>
  valueOf(parseExposition(await (await fetch(lab.metricsTargets.find((t) => t.service === service)!.url)).text()), name, { service });

describe.each([
  ['the embedded Aedes broker', false],
  ['a real Mosquitto', true],
])('queue mode with %s', (_name, external) => {
  let mosquitto: RunningMosquitto | undefined;
  let lab: Lab;
  let total = 0;

  beforeAll(async () => {
    if (external) mosquitto = await startMosquitto();
    lab = await startLab({ mode: 'queue', dataPort: 0, appPort: 0, mqttPort: 0, mqttUrl: mosquitto?.url });
  });
  afterAll(async () => {
    await lab?.stop();
    await mosquitto?.stop();
  });

  it('N votes accepted → N recorded', async () => {
    expect(lab.mqttUrl).toBe(mosquitto?.url ?? lab.mqttUrl);
    const accepted = await castVotes(lab.appUrl, 150, { concurrency: 15 });
    expect(accepted).toBe(150);
    total += accepted;
    expect(await waitForRecorded(lab.dataUrl, total)).toBe(total);
    expect(await metricOf(lab, 'app', TWIN.votesPublished)).toBe(150);
    expect(await metricOf(lab, 'ernst', TWIN.votesProcessed)).toBe(150);
    // Nothing counted twice: still exactly N a moment later.
    await sleep(300);
    expect(await recorded(lab.dataUrl)).toBe(total);
  });

  it('ernst killed (SIGKILL) and restarted mid-stream → still exactly N recorded', async () => {
    let restart: Promise<void> | undefined;
    let recordedAtKill = -1;
    const accepted = await castVotes(lab.appUrl, 300, {
      concurrency: 10,
      onAccepted: (n) => {
        if (n === 100) {
          restart = (async () => {
            recordedAtKill = (await recorded(lab.dataUrl)) - total;
            await lab.restartErnst();
          })();
        }
      },
    });
    await restart;
    expect(accepted).toBe(300);
    // The kill happened while votes were still coming in and being drained.
    expect(recordedAtKill).toBeGreaterThanOrEqual(0);
    expect(recordedAtKill).toBeLessThan(300);
    total += accepted;
    expect(await waitForRecorded(lab.dataUrl, total)).toBe(total);
    await sleep(300);
    expect(await recorded(lab.dataUrl)).toBe(total);
  });

  it('data down: the app keeps accepting, ernst retries, and every vote is recorded once data is back', async () => {
    await lab.stopData();
    const accepted = await castVotes(lab.appUrl, 40, { concurrency: 8 });
    expect(accepted).toBe(40);
    await sleep(500);
    await lab.startData();
    total += accepted;
    expect(await waitForRecorded(lab.dataUrl, total)).toBe(total);
    expect(await metricOf(lab, 'ernst', TWIN.ernstRetries)).toBeGreaterThan(0);
  });
});
