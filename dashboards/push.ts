import { EXIT, UserError } from '../lib/errors.ts';
import type { GrafanaClient, GrafanaResponse } from '../lib/grafana-client.ts';
import { folderUid } from './package.ts';
import { isObject } from './queries.ts';
import type { BuiltDashboard } from './registry.ts';

// Upsert dashboards through Grafana's HTTP API (documented contract:
// GET/POST /api/folders, GET /api/dashboards/uid/:uid, POST /api/dashboards/db).
// Each dashboard is compared with what Grafana holds first, so a second push
// of the same code changes nothing and says so.

export type Outcome = 'created' | 'updated' | 'unchanged';

export interface PushResult {
  uid: string;
  title: string;
  outcome: Outcome;
  /** Grafana's version after the push (the existing one when unchanged; absent in a dry run). */
  version?: number;
  /** Where Grafana serves it, e.g. /d/myhero-service/myhero-service. */
  url?: string;
}

export interface Folder {
  /** Absent for Grafana's root ("General"). */
  uid?: string;
  title: string;
  created: boolean;
}

export interface PushOptions {
  /** Target folder name; '' or "General" = the root. */
  folder: string;
  /** Save over changes made in Grafana since our read (true), or refuse with 412 version-mismatch (false). */
  overwrite: boolean;
  /** Compare and report only. */
  dryRun: boolean;
  /** Version-history message. */
  message: string;
  onResult?: (r: PushResult) => void;
}


/** Grafana's error message in a response body, if any. */
function grafanaMessage(res: GrafanaResponse): string {
  if (isObject(res.body) && typeof res.body.message === 'string') return res.body.message;
  return typeof res.body === 'string' ? res.body.slice(0, 200) : '';
}

/** One line for a response that is not the one we need. */
export function responseError(client: GrafanaClient, res: GrafanaResponse, doing: string): UserError {
  const said = grafanaMessage(res);
  const detail = said ? `: ${said}` : '';
  let line: string;
  if (res.status === 401) {
    line = `Grafana at ${client.url} rejected the credentials while ${doing} (401 Unauthorized${detail}); check --token-file, GRAFANA_TOKEN or --basic-auth-file`;
  } else if (res.status === 403) {
    line = `Grafana at ${client.url} denied ${doing} (403 Forbidden${detail}); the token needs the Editor role, or the dashboards:write, dashboards:create and folders:create permissions`;
  } else if (res.status === 412) {
    const status = isObject(res.body) && typeof res.body.status === 'string' ? res.body.status : 'precondition failed';
    line =
      status === 'version-mismatch'
        ? `${doing}: the dashboard was changed in Grafana by someone else since it was read (412 version-mismatch); run push again to compare afresh, or drop --no-overwrite to replace their change`
        : `${doing}: Grafana refused (412 ${status}${detail})`;
  } else {
    line = `Grafana at ${client.url} answered HTTP ${res.status} while ${doing}${detail}`;
  }
  // Credentials the user gave that Grafana rejects are bad input; any other answer stopped the push.
  return new UserError(client.scrub(line), res.status === 401 ? EXIT.badInput : EXIT.unjudged);
}

const isRoot = (name: string) => name === '' || name.toLowerCase() === 'general';

/** The folder to push into, created if it does not exist (found by uid, then by title). */
export async function ensureFolder(client: GrafanaClient, name: string, dryRun: boolean, afterConflict = false): Promise<Folder> {
  if (isRoot(name)) return { title: 'General', created: false };
  const uid = folderUid(name);
  const byUid = await client.request('GET', `/api/folders/${encodeURIComponent(uid)}`);
  if (byUid.status === 200 && isObject(byUid.body)) return { uid, title: String(byUid.body.title ?? name), created: false };
  if (byUid.status !== 404) throw responseError(client, byUid, `reading folder ${uid}`);

  // A folder made by hand has a generated uid: find it by title.
  const limit = 1000;
  for (let page = 1; ; page++) {
    const list = await client.request('GET', `/api/folders?limit=${limit}&page=${page}`);
    if (list.status !== 200 || !Array.isArray(list.body)) throw responseError(client, list, 'listing folders');
    const hit = list.body.find((f: unknown) => isObject(f) && f.title === name);
    if (isObject(hit) && typeof hit.uid === 'string') return { uid: hit.uid, title: name, created: false };
    if (list.body.length < limit) break;
  }
  if (dryRun) return { uid, title: name, created: true };
  const created = await client.request('POST', '/api/folders', { uid, title: name });
  if (created.status === 200 && isObject(created.body)) return { uid: String(created.body.uid ?? uid), title: name, created: true };
  // 409: created by someone else meanwhile; take theirs (once: a conflict we cannot find is an error).
  if (created.status === 409 && !afterConflict) return ensureFolder(client, name, dryRun, true);
  throw responseError(client, created, `creating folder "${name}"`);
}

/** JSON with sorted keys, so equal dashboards compare equal whatever order Grafana stores keys in. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (isObject(value)) {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => value[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The dashboard without the fields Grafana owns (its database id and version counter). */
function content(dash: unknown): string {
  if (!isObject(dash)) return canonical(dash);
  const { id: _id, version: _version, ...rest } = dash;
  return canonical(rest);
}

export async function pushDashboards(
  client: GrafanaClient,
  dashboards: readonly BuiltDashboard[],
  opts: PushOptions,
): Promise<{ folder: Folder; results: PushResult[] }> {
  const folder = await ensureFolder(client, opts.folder, opts.dryRun);
  const results: PushResult[] = [];
  for (const d of dashboards) {
    const doing = `saving dashboard ${d.uid}`;
    const existing = await client.request('GET', `/api/dashboards/uid/${encodeURIComponent(d.uid)}`);
    if (existing.status !== 200 && existing.status !== 404) throw responseError(client, existing, `reading dashboard ${d.uid}`);
    const current = existing.status === 200 && isObject(existing.body) ? existing.body : undefined;
    const currentDash = current && isObject(current.dashboard) ? current.dashboard : undefined;
    const meta = current && isObject(current.meta) ? current.meta : {};
    const sameFolder = String(meta.folderUid ?? '') === (folder.uid ?? '');

    let result: PushResult;
    if (currentDash && sameFolder && content(currentDash) === content(d.json)) {
      result = {
        uid: d.uid,
        title: d.title,
        outcome: 'unchanged',
        version: typeof currentDash.version === 'number' ? currentDash.version : undefined,
        url: typeof meta.url === 'string' ? meta.url : undefined,
      };
    } else if (opts.dryRun) {
      result = { uid: d.uid, title: d.title, outcome: currentDash ? 'updated' : 'created' };
    } else {
      // Send the version we compared against: with overwrite off, Grafana refuses (412) if it moved since.
      const dashboard = { ...d.json, id: null, ...(currentDash ? { version: currentDash.version } : {}) };
      const saved = await client.request('POST', '/api/dashboards/db', {
        dashboard,
        ...(folder.uid ? { folderUid: folder.uid } : {}),
        overwrite: opts.overwrite,
        message: opts.message,
      });
      if (saved.status !== 200 || !isObject(saved.body)) throw responseError(client, saved, doing);
      result = {
        uid: d.uid,
        title: d.title,
        outcome: currentDash ? 'updated' : 'created',
        version: typeof saved.body.version === 'number' ? saved.body.version : undefined,
        url: typeof saved.body.url === 'string' ? saved.body.url : undefined,
      };
    }
    results.push(result);
    opts.onResult?.(result);
  }
  return { folder, results };
}
