import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../../lib/net.ts';
import { createGrafanaClient, type GrafanaAuth } from '../../lib/grafana-client.ts';
import { pushDashboards, type PushOptions } from '../push.ts';
import { buildDashboards } from '../registry.ts';
import { defaultMonitoring } from '../../lib/monitoring.ts';
import { startGrafanaStandin, type GrafanaStandin, type StandinOptions } from './fixtures/grafana-standin.ts';
import { selfSignedCert } from './fixtures/self-signed.ts';

const TOKEN = 'glsa_standin-test-token-0123456789';
const BASE = defaultMonitoring({ runbookBaseUrl: 'https://git.example.com/myhero-ops/alerts/runbooks' });
const OPTS: PushOptions = { folder: 'myhero', overwrite: true, dryRun: false, message: 'test push' };

let standin: GrafanaStandin | undefined;
afterEach(async () => {
  await standin?.stop();
  standin = undefined;
});

async function start(opts: StandinOptions = { token: TOKEN }) {
  standin = await startGrafanaStandin(opts);
  return standin;
}

const client = (url: string, auth: GrafanaAuth = { kind: 'bearer', token: TOKEN }, ca?: string) =>
  createGrafanaClient({ url, auth, ca, timeoutMs: 5000 });

/** The error a push fails with, as the CLI would print it. */
async function failure(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, 'push should have failed').toBeInstanceOf(Error);
  return (err as Error).message;
}

describe('dashboards push against a Grafana API stand-in', () => {
  it('creates the folder and every dashboard, then reports them unchanged, then updated after a change', async () => {
    const g = await start();
    const dashboards = buildDashboards(BASE);

    const first = await pushDashboards(client(g.url), dashboards, OPTS);
    expect(first.folder).toEqual({ uid: 'myhero', title: 'myhero', created: true });
    expect(first.results.map((r) => r.outcome)).toEqual(dashboards.map(() => 'created'));
    expect(first.results.every((r) => r.version === 1 && r.url?.startsWith(`/d/${r.uid}/`))).toBe(true);
    expect([...g.dashboards.values()].every((d) => d.folderUid === 'myhero')).toBe(true);

    const again = await pushDashboards(client(g.url), dashboards, OPTS);
    expect(again.folder.created).toBe(false);
    expect(again.results.map((r) => r.outcome)).toEqual(dashboards.map(() => 'unchanged'));
    expect(g.requests.filter((r) => r.method === 'POST')).toHaveLength(1 + dashboards.length);

    // A different runbook base changes every panel link: all dashboards update, to version 2.
    const changed = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://wiki.example.com/runbooks' }));
    const third = await pushDashboards(client(g.url), changed, OPTS);
    expect(third.results.map((r) => [r.outcome, r.version])).toEqual(changed.map(() => ['updated', 2]));

    // Only one dashboard changed → only that one is saved.
    const oneChanged = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://wiki.example.com/runbooks' }));
    oneChanged[1]!.json.title = 'myhero / Service (renamed)';
    const fourth = await pushDashboards(client(g.url), oneChanged, OPTS);
    expect(fourth.results.map((r) => r.outcome)).toEqual(['unchanged', 'updated', 'unchanged', 'unchanged', 'unchanged']);

    expect(g.violations).toEqual([]);
    expect(g.requests.every((r) => r.auth === 'bearer')).toBe(true);
  });

  it('sends the documented request shapes', async () => {
    const g = await start();
    const [first] = buildDashboards(BASE);
    await pushDashboards(client(g.url), [first!], OPTS);
    const paths = g.requests.map((r) => `${r.method} ${r.path}`);
    expect(paths).toEqual([
      'GET /api/folders/myhero',
      'GET /api/folders?limit=1000&page=1',
      'POST /api/folders',
      `GET /api/dashboards/uid/${first!.uid}`,
      'POST /api/dashboards/db',
    ]);
    expect(g.requests[2]!.body).toEqual({ uid: 'myhero', title: 'myhero' });
    const save = g.requests[4]!.body as Record<string, unknown>;
    expect(Object.keys(save).sort()).toEqual(['dashboard', 'folderUid', 'message', 'overwrite']);
    expect(save).toMatchObject({ folderUid: 'myhero', overwrite: true, message: 'test push' });
    expect(save.dashboard).toMatchObject({ id: null, uid: first!.uid, title: first!.title });
    expect(g.violations).toEqual([]);
  });

  it('finds a folder made by hand by its title and pushes into it', async () => {
    const g = await start();
    g.folders.set('aB3xYz', { id: 99, uid: 'aB3xYz', title: 'myhero' });
    const { folder } = await pushDashboards(client(g.url), buildDashboards(BASE), OPTS);
    expect(folder).toEqual({ uid: 'aB3xYz', title: 'myhero', created: false });
    expect([...g.dashboards.values()].every((d) => d.folderUid === 'aB3xYz')).toBe(true);
  });

  it('takes the folder someone else created between our lookup and our create (409)', async () => {
    const g = await start();
    g.createFolderAfterNextList({ uid: 'theirs', title: 'myhero' });
    const { folder, results } = await pushDashboards(client(g.url), buildDashboards(BASE), OPTS);
    expect(folder).toEqual({ uid: 'theirs', title: 'myhero', created: false });
    expect(results.every((r) => r.outcome === 'created')).toBe(true);
    expect(g.requests.map((r) => `${r.method} ${r.path}`).slice(0, 5)).toEqual([
      'GET /api/folders/myhero',
      'GET /api/folders?limit=1000&page=1',
      'POST /api/folders',
      'GET /api/folders/myhero',
      'GET /api/folders?limit=1000&page=1',
    ]);
  });

  it('pushes to the root folder without a folderUid', async () => {
    const g = await start();
    const { folder } = await pushDashboards(client(g.url), buildDashboards(BASE), { ...OPTS, folder: 'General' });
    expect(folder).toEqual({ title: 'General', created: false });
    expect(g.requests.some((r) => r.path.startsWith('/api/folders'))).toBe(false);
    expect([...g.dashboards.values()].every((d) => d.folderUid === '')).toBe(true);
  });

  it('moves a dashboard that sits in another folder (reported as updated)', async () => {
    const g = await start();
    const dashboards = buildDashboards(BASE);
    await pushDashboards(client(g.url), dashboards, { ...OPTS, folder: 'General' });
    const { results } = await pushDashboards(client(g.url), dashboards, OPTS);
    expect(results.map((r) => r.outcome)).toEqual(dashboards.map(() => 'updated'));
    expect([...g.dashboards.values()].every((d) => d.folderUid === 'myhero')).toBe(true);
  });

  it('authenticates with basic auth', async () => {
    const g = await start({ basic: { user: 'admin', password: 's3cret-pass' } });
    const { results } = await pushDashboards(client(g.url, { kind: 'basic', user: 'admin', password: 's3cret-pass' }), buildDashboards(BASE), OPTS);
    expect(results.every((r) => r.outcome === 'created')).toBe(true);
    expect(g.requests.every((r) => r.auth === 'basic')).toBe(true);
  });

  it('a dry run compares and reports but changes nothing', async () => {
    const g = await start();
    const dashboards = buildDashboards(BASE);
    await pushDashboards(client(g.url), dashboards.slice(0, 2), OPTS);
    const changed = buildDashboards(BASE);
    changed[0]!.json.description = 'changed';
    const before = g.requests.filter((r) => r.method === 'POST').length;
    const { results } = await pushDashboards(client(g.url), changed, { ...OPTS, dryRun: true });
    expect(results.map((r) => r.outcome)).toEqual(['updated', 'unchanged', 'created', 'created', 'created']);
    expect(g.requests.filter((r) => r.method === 'POST').length).toBe(before);
  });

  it('401: one line naming the credentials, and no token in it', async () => {
    const g = await start();
    const message = await failure(pushDashboards(client(g.url, { kind: 'bearer', token: 'wrong-token-abcdef' }), buildDashboards(BASE), OPTS));
    expect(message).toMatch(/rejected the credentials .*\(401 Unauthorized: Unauthorized\); check --token-file, GRAFANA_TOKEN or --basic-auth-file/);
    expect(message).not.toContain('wrong-token-abcdef');
    expect(message).not.toContain('\n');
  });

  it('403: one line naming the permission the token lacks', async () => {
    const g = await start({ token: TOKEN, role: 'Viewer' });
    const message = await failure(pushDashboards(client(g.url), buildDashboards(BASE), OPTS));
    expect(message).toMatch(/denied creating folder "myhero" \(403 Forbidden: You'll need additional permissions.*\); the token needs the Editor role/);
    expect(message).not.toContain(TOKEN);
  });

  it('412 version-mismatch with --no-overwrite when the dashboard is edited between our read and our save', async () => {
    const g = await start();
    const dashboards = buildDashboards(BASE);
    await pushDashboards(client(g.url), dashboards, OPTS);
    const changed = buildDashboards(defaultMonitoring({ runbookBaseUrl: 'https://wiki.example.com/runbooks' }));

    g.editAfterNextRead(dashboards[0]!.uid);
    const message = await failure(pushDashboards(client(g.url), changed, { ...OPTS, overwrite: false }));
    expect(message).toBe(
      `saving dashboard ${dashboards[0]!.uid}: the dashboard was changed in Grafana by someone else since it was read (412 version-mismatch); run push again to compare afresh, or drop --no-overwrite to replace their change`,
    );

    // With overwrite (the default) the same race is resolved in our favour.
    g.editAfterNextRead(dashboards[0]!.uid);
    const { results } = await pushDashboards(client(g.url), changed, OPTS);
    expect(results[0]).toMatchObject({ outcome: 'updated', version: 4 });
    expect(g.violations).toEqual([]);
  });

  it('unreachable URL: one line', async () => {
    const port = await freePort();
    const message = await failure(pushDashboards(client(`http://127.0.0.1:${port}`), buildDashboards(BASE), OPTS));
    expect(message).toMatch(new RegExp(`^cannot reach Grafana at http://127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });

  it('TLS: an untrusted certificate is named as a TLS problem; trusting its CA with --ca-file works', async () => {
    const tls = selfSignedCert();
    const g = await start({ token: TOKEN, tls });
    const message = await failure(pushDashboards(client(g.url), buildDashboards(BASE), OPTS));
    expect(message).toMatch(/^TLS problem talking to Grafana at https:\/\/127\.0\.0\.1:\d+: self[- ]signed certificate.*pass --ca-file/);
    expect(message).not.toContain(TOKEN);

    const { results } = await pushDashboards(client(g.url, { kind: 'bearer', token: TOKEN }, tls.cert), buildDashboards(BASE), OPTS);
    expect(results.every((r) => r.outcome === 'created')).toBe(true);

    // http:// to the https port: the server drops the connection.
    const wrongScheme = await failure(pushDashboards(client(g.url.replace('https:', 'http:')), buildDashboards(BASE), OPTS));
    expect(wrongScheme).toMatch(/^cannot reach Grafana at http:\/\/127\.0\.0\.1:\d+: .*ECONNRESET/);
  });

  it('TLS: https:// to a plain-http Grafana is named as a TLS problem', async () => {
    const g = await start();
    const message = await failure(pushDashboards(client(g.url.replace('http:', 'https:')), buildDashboards(BASE), OPTS));
    expect(message).toMatch(/^TLS problem talking to Grafana at https:\/\/127\.0\.0\.1:\d+: .*(wrong version number|EPROTO)/i);
  });
});
