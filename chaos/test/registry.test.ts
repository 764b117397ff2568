import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { afterEach, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseGameday } from '../experiment.ts';
import { describePlan } from '../plan.ts';
import { experimentJsonSchema } from '../schema/experiment.ts';
import { BUILTIN_STEPS, STEPS, createRegistry } from '../steps/index.ts';
import { ANNOTATION, annotate } from './fixtures/annotate-step.ts';
import { ROOT, manifests, run, settle, startCluster, writes, type TestCluster } from './fixtures/cluster.ts';

// A new step kind is one module: the registry takes it, and the experiment schema, the
// plan, the dry run, the journal, the time limit and the rollbacks work for it with no
// change anywhere else (this test and fixtures/annotate-step.ts are all it touches).
// And every built-in kind is known everywhere a user meets it (the exhaustiveness check).

let c: TestCluster;
afterEach(() => c?.stop());

const registry = createRegistry([...BUILTIN_STEPS, annotate]);
const file = (step: string) => `title: annotate\nmethod:\n  - ${step}\n`;
const annotation = async () => (await c.kube.getDeployment('default', 'myhero-app')).metadata?.annotations?.[ANNOTATION];

describe('the step registry', () => {
  it('takes a new kind from its own module: parsed, described, run with its rollback, dry-run, bounded by its limit', async () => {
    const plan = parseGameday(file('annotate: {deployment: myhero-app, value: chaos, hold: 200ms}'), 'x.yaml', { namespace: 'default', env: {}, steps: registry });
    expect(plan.method).toEqual([{ kind: 'annotate', spec: { deployment: 'myhero-app', value: 'chaos', holdMs: 200, limitMs: 60_000 } }]);
    expect(describePlan(plan, registry)).toContain('  1. annotate deployment myhero-app with chaos for 0.2s');
    // Its schema errors are one line naming the place, like every kind's; the built-in registry does not know it.
    expect(() => parseGameday(file('annotate: {deployment: myhero-app}'), 'x.yaml', { namespace: 'default', env: {}, steps: registry })).toThrow('x.yaml: method[0].annotate.value: ');
    expect(() => parseGameday(file('annotate: {deployment: myhero-app, value: v}'), 'x.yaml', { namespace: 'default', env: {} })).toThrow('x.yaml: method[0]: unknown field "annotate"');

    c = await startCluster({ objects: manifests(true) });
    await settle(c);
    const env = { steps: registry };
    const dry = await run(c, plan, { ...env, dryRun: true });
    expect(dry.steps).toEqual([expect.objectContaining({ kind: 'annotate', status: 'dry run' })]);
    expect(writes(c)).toEqual([]);

    let during: string | undefined;
    const watching = (async () => {
      for (let i = 0; i < 100 && !during; i++) {
        during = await annotation();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    const j = await run(c, plan, env);
    await watching;
    expect(j.status, j.error).toBe('completed');
    expect(during).toBe('chaos');
    expect(await annotation()).toBeUndefined();
    expect(j.steps).toEqual([expect.objectContaining({ index: 1, kind: 'annotate', status: 'succeeded', durationMs: expect.any(Number) })]);
    expect(j.steps[0]!.durationMs).toBeGreaterThanOrEqual(200);
    expect(j.rollbacks).toEqual([expect.objectContaining({ name: 'unannotate myhero-app', ok: true })]);

    // Past its limit the executor stops it, the run is not judged (exit 3), and the rollback still runs.
    const slow = parseGameday(file('annotate: {deployment: myhero-app, value: slow, hold: 1m, limit: 300ms}'), 'x.yaml', { namespace: 'default', env: {}, steps: registry });
    const t = await run(c, slow, env);
    expect(t.error).toBe('step 1 (annotate) did not finish within its limit of 0.30 s');
    expect(t.exitCode).toBe(3);
    expect(t.steps).toEqual([expect.objectContaining({ status: 'timed out' })]);
    expect(t.rollbacks).toEqual([expect.objectContaining({ name: 'unannotate myhero-app', ok: true })]);
    expect(await annotation()).toBeUndefined();

    // The JSON Schema for editors knows it too.
    const validate = new Ajv({ strict: false }).compile(experimentJsonSchema(registry));
    expect(validate(parseYaml(file('annotate: {deployment: myhero-app, value: v}')))).toBe(true);
    expect(validate(parseYaml(file('annotate: {deployment: myhero-app}')))).toBe(false);
  });

  it('refuses two kinds of one name', () => {
    expect(() => createRegistry([...BUILTIN_STEPS, { ...annotate, kind: 'pause' }])).toThrow('two step kinds are named pause');
  });

  it('every built-in kind is in the shipped JSON Schema and in the README (exhaustiveness)', () => {
    const schema = readFileSync(join(ROOT, 'chaos/experiment.schema.json'), 'utf8');
    const readme = readFileSync(join(ROOT, 'chaos/README.md'), 'utf8');
    for (const kind of STEPS.kinds) {
      expect(schema, kind).toContain(`"${kind}"`);
      expect(readme, kind).toContain(`\`${kind}\``);
    }
  });
});
