import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Folders meet through lib/. A capability folder imports lib/ and itself only, with
// two deliberate exceptions: the load tests start the lab through its public module,
// and chaos drives the load engine. Tests may also import the shared test fixtures
// (test/fixtures/: the Kubernetes API stand-in, the schemas, the CLI runner, the
// exposition parser), which import nothing but lib/. lib/ imports no capability
// folder, except the command table that loads each folder's CLI on demand. The root
// package.json may be read by anyone (the exporter reports the package's version).
// The sources are walked and every import specifier parsed (static, type-only,
// re-exports, dynamic), so a new file or a new import is checked without editing this.

const ROOT = resolve(import.meta.dirname, '..');
const CAPABILITIES = ['alerts', 'chaos', 'dashboards', 'exporters', 'lab', 'loadtests'];
/** [importing folder, imported file]: the only imports across capability folders. */
const EXCEPTIONS: [string, string][] = [
  ['loadtests', 'lab/lab.ts'],
  ['chaos', 'loadtests/engine.ts'],
];
const COMMAND_TABLE = 'lib/commands.ts';
const SKIP = new Set(['node_modules', '.git', 'reports', 'dist', 'out']);

interface Source {
  /** Path from the repository root, with forward slashes. */
  path: string;
  text: string;
}

function walk(dir: string, into: Source[] = []): Source[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP.has(entry.name)) continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) walk(full, into);
    else if (/\.(ts|mts|mjs|js)$/.test(entry.name)) into.push({ path: relative(ROOT, full), text: readFileSync(full, 'utf8') });
  }
  return into;
}

const folderOf = (path: string): string => path.split('/')[0]!;
const isTestFile = (path: string): boolean => /(^|\/)test\//.test(path);

/** Every import of `sources` that crosses a boundary above, as `importer -> imported`. */
function crossings(sources: Source[]): string[] {
  const found: string[] = [];
  for (const { path, text } of sources) {
    const from = folderOf(path);
    for (const { fileName } of ts.preProcessFile(text, true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package or a node: builtin
      const target = relative(ROOT, resolve(ROOT, dirname(path), fileName));
      const to = folderOf(target);
      const ok =
        to === from ||
        to === 'lib' ||
        target === 'package.json' ||
        (from === 'test' && !path.startsWith('test/fixtures/')) ||
        (target.startsWith('test/fixtures/') && isTestFile(path)) ||
        (from === 'lib' && path === COMMAND_TABLE && target.endsWith('/cli.ts') && CAPABILITIES.includes(to)) ||
        EXCEPTIONS.some(([importer, file]) => importer === from && file === target);
      if (!ok) found.push(`${path} -> ${target}`);
    }
  }
  return found;
}

describe('folders meet through lib/', () => {
  const sources = walk(ROOT);

  it('walks the sources of every folder', () => {
    for (const folder of [...CAPABILITIES, 'lib', 'test']) expect(sources.some((s) => folderOf(s.path) === folder), folder).toBe(true);
  });

  it('no import crosses from one capability folder into another beyond the two exceptions', () => {
    expect(crossings(sources)).toEqual([]);
  });

  it('the exceptions are in use (an unused one is an exception no longer needed)', () => {
    const imports = (folder: string, file: string) =>
      sources.some((s) => folderOf(s.path) === folder && ts.preProcessFile(s.text, true, true).importedFiles.some((f) => relative(ROOT, resolve(ROOT, dirname(s.path), f.fileName)) === file));
    for (const [folder, file] of EXCEPTIONS) expect(imports(folder, file), `${folder} -> ${file}`).toBe(true);
  });

  it('reports each kind of crossing (negative control)', () => {
    const file = (path: string, ...specifiers: string[]): Source => ({ path, text: specifiers.map((s) => `import { x } from '${s}';`).join('\n') });
    expect(
      crossings([
        file('alerts/checks.ts', '../lab/promstack.ts', '../lib/promstack.ts', './rule.ts'),
        file('loadtests/cli.ts', '../lab/data/store.ts', '../lab/lab.ts'),
        file('chaos/probes/http.ts', '../../loadtests/accounting.ts', '../../loadtests/engine.ts'),
        file('dashboards/registry.ts', '../alerts/config.ts'),
        { path: 'dashboards/lazy.ts', text: "const m = await import('../alerts/rule.ts');\nexport type { T } from '../exporters/settings.ts';" },
        file('exporters/server.ts', '../test/fixtures/cli.ts'),
        file('exporters/test/cli.test.ts', '../../test/fixtures/cli.ts', '../../test/e2e/alerts.test.ts', '../../lab/lab.ts'),
        file('lib/report/html.ts', '../../loadtests/report.ts'),
        file('lib/commands.ts', '../chaos/cli.ts', '../chaos/run.ts'),
        file('test/fixtures/cli.ts', '../../loadtests/engine.ts'),
        file('test/e2e/loadtest.test.ts', '../../loadtests/reconcile.ts', '../../lab/lab.ts'),
      ]),
    ).toEqual([
      'alerts/checks.ts -> lab/promstack.ts',
      'loadtests/cli.ts -> lab/data/store.ts',
      'chaos/probes/http.ts -> loadtests/accounting.ts',
      'dashboards/registry.ts -> alerts/config.ts',
      'dashboards/lazy.ts -> alerts/rule.ts',
      'dashboards/lazy.ts -> exporters/settings.ts',
      'exporters/server.ts -> test/fixtures/cli.ts',
      'exporters/test/cli.test.ts -> test/e2e/alerts.test.ts',
      'exporters/test/cli.test.ts -> lab/lab.ts',
      'lib/report/html.ts -> loadtests/report.ts',
      'lib/commands.ts -> chaos/run.ts',
      'test/fixtures/cli.ts -> loadtests/engine.ts',
    ]);
  });
});
