import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram, defineGroup } from '../../lib/cli.ts';
import { ENV } from '../../lib/defaults.ts';
import { runCli } from '../../test/fixtures/cli.ts';
import { validateObject } from '../../test/fixtures/k8s-schemas.ts';
import { bundleK6 } from '../k6bundle.ts';
import { settingsFromEnv } from '../k6/lib/options.ts';
import { CONFIGMAP_LIMIT_BYTES, SCRIPT_FILE, k6OperatorManifests, renderManifests, summaryRecipe, type K6OperatorSpec } from '../k6operator.ts';
import { registerK6Operator } from '../k6operator-cli.ts';
import { initializerArchiveArgv, operatorJobs, type TestRunLike } from './fixtures/k6-operator/operator.ts';
import { CRD_VERSION, RELIED_ON, schemaAt, validateTestRun } from './fixtures/k6-operator/testrun-schema.ts';

// k6-operator cannot run here (no cluster): the TestRun is validated against the k6-operator
// CRD's schema (fixtures/k6-operator/, from v1.6.0) with ajv, the jobs k6-operator would make of
// it against the Kubernetes schemas, the manifests are rendered by the real `kubectl kustomize`
// and searched for the key, and the initializer's command line is rebuilt as k6-operator does.

const KEY = 'Op-Secret-Key-91d3';
let script: string;
let dir: string;

beforeAll(async () => {
  script = (await bundleK6()).vote;
  dir = mkdtempSync(join(tmpdir(), 'k6op-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base = (): K6OperatorSpec => ({
  name: 'myhero-vote',
  namespace: 'loadtest',
  parallelism: 4,
  scriptEnv: { TARGET: 'http://myhero-app.default.svc', VOTERS: '400', DURATION: '2m', THRESHOLDS: 'p99<500ms' },
  keySecret: { name: 'myhero-app-key', key: ENV.appKey },
  script: 'export default function () {}',
});

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };
interface PodPart {
  image?: string;
  env: EnvVar[];
  metadata?: { labels: Record<string, string> };
}
interface TestRun extends TestRunLike {
  apiVersion: string;
  kind: string;
  spec: TestRunLike['spec'] & { separate?: boolean; cleanup?: string; initializer: PodPart; runner: PodPart };
}

/** The CRD's schema, and what the API server checks beyond it when k6-operator creates the pods. */
function checkTestRun(t: TestRun): void {
  validateTestRun(t);
  for (const e of [...t.spec.initializer.env, ...t.spec.runner.env]) {
    expect(e.name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
    // An EnvVar has a value or a valueFrom, never both.
    expect('value' in e !== 'valueFrom' in e).toBe(true);
  }
}

const SECRETS = { [`myhero-app-key/${ENV.appKey}`]: KEY, [`app-key/${ENV.appKey}`]: KEY };

function env(t: TestRun): Record<string, EnvVar> {
  return Object.fromEntries(t.spec.runner.env.map((e) => [e.name, e]));
}

describe(`the TestRun CRD fixture (k6-operator ${CRD_VERSION})`, () => {
  it('still has every field the generated TestRun writes, with its type', () => {
    for (const [path, type] of Object.entries(RELIED_ON)) expect(schemaAt(path)?.type, path).toBe(type);
    expect(schemaAt('spec.cleanup')?.enum).toEqual(['post']);
    expect(schemaAt('spec.parallelism')?.format).toBe('int32');
  });

  it.each([
    ['a fractional parallelism', (t: TestRun) => void (t.spec.parallelism = 1.5), /\/spec\/parallelism must be integer/],
    ['an int32 overflow', (t: TestRun) => void (t.spec.parallelism = 2 ** 31), /\/spec\/parallelism must match format "int32"/],
    ['an unknown field', (t: TestRun) => void ((t.spec as Record<string, unknown>).runners = 2), /\/spec must NOT have additional properties \(runners\)/],
    ['an unknown runner field', (t: TestRun) => void ((t.spec.runner as unknown as Record<string, unknown>).envs = []), /\/spec\/runner must NOT have additional properties \(envs\)/],
    ['a cleanup outside the enum', (t: TestRun) => void (t.spec.cleanup = 'always'), /\/spec\/cleanup must be equal to one of the allowed values \(post\)/],
    ['a number as an env value', (t: TestRun) => void ((t.spec.runner.env[0] as { value: unknown }).value = 3), /\/spec\/runner\/env\/0\/value must be string/],
    ['a secretKeyRef without key', (t: TestRun) => void delete (t.spec.runner.env.find((e) => e.valueFrom)!.valueFrom!.secretKeyRef as { key?: string }).key, /secretKeyRef must have required property 'key'/],
    ['no script', (t: TestRun) => void delete (t.spec as Partial<TestRun['spec']>).script, /\/spec must have required property 'script'/],
  ])('refuses %s (negative control)', (_what, spoil, message) => {
    const t = structuredClone(k6OperatorManifests(base()).testRun) as unknown as TestRun;
    validateTestRun(t);
    spoil(t);
    expect(() => validateTestRun(t)).toThrow(message);
  });
});

describe('k6OperatorManifests', () => {
  it('writes a TestRun that runs the ConfigMap script on N runners, the key from a Secret', () => {
    const m = k6OperatorManifests({ ...base(), script });
    const t = m.testRun as unknown as TestRun;
    checkTestRun(t);
    expect(t.metadata).toMatchObject({ name: 'myhero-vote', namespace: 'loadtest' });
    expect(t.spec.parallelism).toBe(4);
    const cm = m.configMap as { kind: string; metadata: { name: string; namespace: string }; data: Record<string, string> };
    expect(cm.kind).toBe('ConfigMap');
    expect(t.spec.script.configMap).toEqual({ name: cm.metadata.name, file: SCRIPT_FILE });
    expect(Object.keys(cm.data)).toEqual([t.spec.script.configMap.file]);
    expect(cm.data[SCRIPT_FILE]).toBe(script);
    const e = env(t);
    expect(e.MYHERO_APP_KEY).toEqual({ name: 'MYHERO_APP_KEY', valueFrom: { secretKeyRef: { name: 'myhero-app-key', key: ENV.appKey } } });
    expect(e.TARGET!.value).toBe('http://myhero-app.default.svc');
    expect(e.PARALLELISM!.value).toBe('4');
    expect(e.SUMMARY_STDOUT!.value).toBe('json');
    expect(t.spec.arguments).toBe('--tag testid=myhero-vote');
    expect(t.spec.runner.metadata?.labels['app.kubernetes.io/instance']).toBe('myhero-vote');
    expect(m.kustomization).toEqual({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', namespace: 'loadtest', resources: ['configmap.yaml', 'testrun.yaml'] });
  });

  it('makes a ConfigMap and, through k6-operator, Jobs that the Kubernetes schemas accept, the script where they mount it', async () => {
    const m = k6OperatorManifests({ ...base(), script, image: 'grafana/k6:0.46.0' });
    await validateObject(m.configMap);
    const jobs = operatorJobs(m.testRun as unknown as TestRun);
    expect(jobs.map((j) => (j.metadata as { name: string }).name)).toEqual(['myhero-vote-initializer', 'myhero-vote-1', 'myhero-vote-2', 'myhero-vote-3', 'myhero-vote-4']);
    for (const job of jobs) await validateObject(job);
    const pod = (jobs[1] as { spec: { template: { spec: { volumes: { configMap: { name: string } }[]; containers: { image: string; env: EnvVar[] }[] } } } }).spec.template.spec;
    expect(pod.volumes[0]!.configMap.name).toBe((m.configMap as { metadata: { name: string } }).metadata.name);
    expect(pod.containers[0]!.image).toBe('grafana/k6:0.46.0');
    expect(pod.containers[0]!.env.find((e) => e.name === 'MYHERO_APP_KEY')?.valueFrom).toEqual({ secretKeyRef: { name: 'myhero-app-key', key: ENV.appKey } });
    // The negative control: a Job whose env var has a value of the wrong type.
    const spoiled = structuredClone(jobs[1]!) as typeof jobs[number];
    (spoiled as { spec: { template: { spec: { containers: { env: unknown[] }[] } } } }).spec.template.spec.containers[0]!.env[0] = { name: 'X', value: 3 };
    await expect(validateObject(spoiled)).rejects.toThrow(/value/);
  });

  it('keeps the key off the initializer\'s `k6 archive` command line and out of its archive', () => {
    const t = k6OperatorManifests({ ...base(), script }).testRun as unknown as TestRun;
    const argv = initializerArchiveArgv(t, SECRETS);
    expect(argv.slice(0, 3)).toEqual(['k6', 'archive', `/test/${SCRIPT_FILE}`]);
    expect(argv).toContain('TARGET=http://myhero-app.default.svc');
    expect(argv.join(' ')).not.toContain(KEY);
    expect(env(t).MYHERO_APP_KEY?.valueFrom).toBeDefined();
    // The initializer has everything else the runners have: it evaluates the script's options.
    const withoutKey = t.spec.runner.env.filter((e) => e.name !== 'MYHERO_APP_KEY');
    expect(t.spec.initializer.env).toEqual(withoutKey);
    expect(() => settingsFromEnv(Object.fromEntries(t.spec.initializer.env.map((e) => [e.name, e.value])))).not.toThrow();
    // The negative control: without an initializer section k6-operator copies the runner's, key included.
    const { initializer: _dropped, ...spec } = t.spec;
    expect(initializerArchiveArgv({ ...t, spec } as TestRunLike, SECRETS)).toContain(`MYHERO_APP_KEY=${KEY}`);
  });

  it('gives the runners settings the script itself accepts', () => {
    const t = k6OperatorManifests(base()).testRun as unknown as TestRun;
    const values = Object.fromEntries(t.spec.runner.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    const s = settingsFromEnv(values);
    expect(s).toMatchObject({ target: 'http://myhero-app.default.svc', parallelism: 4, model: { kind: 'closed', voters: 400 } });
    expect(s.thresholds.map((x) => x.source)).toEqual(['p99<500ms']);
  });

  it('sets image, separate and cleanup only when asked', () => {
    const plain = (k6OperatorManifests(base()).testRun as unknown as TestRun).spec;
    expect(plain).not.toHaveProperty('separate');
    expect(plain).not.toHaveProperty('cleanup');
    expect(plain.runner).not.toHaveProperty('image');
    expect(plain.initializer).not.toHaveProperty('image');
    const t = k6OperatorManifests({ ...base(), image: 'grafana/k6:1.0.0', separate: true, cleanup: true }).testRun as unknown as TestRun;
    checkTestRun(t);
    expect(t.spec).toMatchObject({ separate: true, cleanup: 'post', runner: { image: 'grafana/k6:1.0.0' }, initializer: { image: 'grafana/k6:1.0.0' } });
  });

  it.each([
    [{ name: 'My_Run' }, /invalid name/],
    [{ name: 'x'.repeat(51) }, /invalid name/],
    [{ namespace: 'Bad NS' }, /invalid namespace/],
    [{ parallelism: 0 }, /invalid parallelism/],
    [{ keySecret: { name: 'k', key: 'a b' } }, /invalid key Secret key/],
    [{ scriptEnv: { MYHERO_APP_KEY: 'x' } }, /set by the manifests/],
    [{ script: 'x'.repeat(CONFIGMAP_LIMIT_BYTES + 1) }, /ConfigMap limit/],
  ])('refuses %o', (override, message) => {
    expect(() => k6OperatorManifests({ ...base(), ...override } as K6OperatorSpec)).toThrow(message);
  });

  it('renders YAML that reads back to the same objects', () => {
    const m = k6OperatorManifests({ ...base(), script });
    const files = renderManifests(m);
    expect(Object.keys(files).sort()).toEqual(['configmap.yaml', 'kustomization.yaml', 'testrun.yaml']);
    expect(parse(files['testrun.yaml']!)).toEqual(m.testRun);
    expect(parse(files['configmap.yaml']!)).toEqual(m.configMap);
    // Shared objects (labels, env) are written out, not as YAML anchors.
    expect(files['testrun.yaml']).not.toMatch(/[&*]a\d/);
  });

  it('documents the log recipe it prints', () => {
    const readme = readFileSync(fileURLToPath(new URL('../k6/README.md', import.meta.url)), 'utf8');
    expect(readme).toContain(summaryRecipe('default', 'myhero-vote').text);
  });
});

describe('myhero-ops loadtest k6-operator', () => {
  it('writes manifests kubectl kustomize renders, with the key nowhere in them', async () => {
    const out = join(dir, 'op');
    const r = await runCli(['loadtest', 'k6-operator', '--parallelism', '3', '--target', 'http://myhero-app.myhero.svc', '--namespace', 'myhero', '--rate', '300', '--duration', '90s', '--warmup', '10s', '--threshold', 'p99<800ms', 'failed_rate<0.02', '--key-secret', 'app-key', '--out', out, '--json'], { cleanEnv: true, env: { MYHERO_APP_KEY: KEY } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const summary = JSON.parse(r.stdout) as { files: string[]; parallelism: number; namespace: string };
    expect(summary).toMatchObject({ parallelism: 3, namespace: 'myhero' });
    expect(readdirSync(out).sort()).toEqual(['configmap.yaml', 'kustomization.yaml', 'testrun.yaml']);
    for (const f of readdirSync(out)) expect(readFileSync(join(out, f), 'utf8')).not.toContain(KEY);
    expect(r.stdout).not.toContain(KEY);

    const rendered = execFileSync('kubectl', ['kustomize', out], { encoding: 'utf8' });
    const docs = parseAllDocuments(rendered).map((d) => d.toJS() as { kind: string; metadata: { namespace: string } });
    expect(docs.map((d) => d.kind).sort()).toEqual(['ConfigMap', 'TestRun']);
    expect(docs.every((d) => d.metadata.namespace === 'myhero')).toBe(true);
    const t = docs.find((d) => d.kind === 'TestRun') as unknown as TestRun;
    checkTestRun(t);
    expect(initializerArchiveArgv(t, SECRETS).join(' ')).not.toContain(KEY);
    const e = env(t);
    expect(e.RATE!.value).toBe('300');
    expect(e).not.toHaveProperty('VOTERS');
    expect(e.DURATION!.value).toBe('90s');
    expect(e.WARMUP!.value).toBe('10s');
    expect(e.THRESHOLDS!.value).toBe('p99<800ms,failed_rate<0.02');
    expect(e.MYHERO_APP_KEY!.valueFrom).toEqual({ secretKeyRef: { name: 'app-key', key: ENV.appKey } });
    const cm = docs.find((d) => d.kind === 'ConfigMap') as unknown as { data: Record<string, string> };
    expect(cm.data[SCRIPT_FILE]).toBe(script);
  });

  // Bad input in-process (the same command on a fresh program), without a process start each;
  // lib/cli.ts's runCli turns a UserError into one line and its exit code.
  it.each([
    [['--target', 'http://x', '--parallelism', '0'], /invalid --parallelism "0"/],
    [['--target', 'http://x', '--warmup', '1m', '--duration', '30s'], /^invalid --warmup: must be shorter than the load \(30 s\)$/],
    [['--parallelism', '2'], /no target/],
    [['--target', 'http://x', '--threshold', 'p99<soon'], /invalid --threshold "p99<soon"/],
    [['--target', 'http://x', '--threshold', 'ratio>1'], /compare only/],
    [['--target', 'http://x', '--parallelism', '2', '--threshold', 'lost==0'], /needs --parallelism 1/],
    [['--target', 'http://x', '--stages', '10s:5,10s:0', '--warmup', '20s'], /invalid --warmup: must be shorter than the load \(20 s\)/],
    [['--target', 'http://x', '--name', 'Bad_Name'], /invalid name "Bad_Name"/],
    [['--target', 'http://x', '--key-secret', 'Not A Name'], /invalid key Secret name/],
  ])('refuses %j with a UserError (exit 2)', async (args, message) => {
    const program = createProgram();
    registerK6Operator(defineGroup(program, 'loadtest', 'load tests'));
    const run = program.parseAsync(['node', 'myhero-ops', 'loadtest', 'k6-operator', ...args, '--out', join(dir, 'bad')]);
    await expect(run).rejects.toThrow(message);
    await expect(run).rejects.toMatchObject({ name: 'UserError', exitCode: 2 });
  });
});
