import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, transform } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundledModules, bundleK6, K6_BUILD_OPTIONS, K6_SOURCE_DIR, k6BundleProblems, writeK6Bundles } from '../k6bundle.ts';

// What `npm run k6:build` produces is what a k6 binary will load: plain JavaScript,
// k6's own modules as its only imports, nothing of Node, npm or TypeScript left, and
// the runner's own rules inlined rather than copied.

let code: string;
beforeAll(async () => {
  code = (await bundleK6()).vote;
});

const importSpecifiers = (js: string) => [...js.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)].map((m) => m[1] ?? m[2]);

/** The module (esbuild's `// <path>` comment) whose section of the bundle defines `name` at the top level; one entry per definition. */
function definedIn(js: string, name: string): string[] {
  const where: string[] = [];
  let module = '';
  for (const line of js.split('\n')) {
    if (/^\/\/ [\w@./-]+\.[cm]?[jt]s$/.test(line)) module = line.slice(3);
    if (new RegExp(`^(?:var|let|const|function|class) ${name}\\d*\\b`).test(line)) where.push(module);
  }
  return where;
}

/** A module bundled exactly as the scripts are, from source text in loadtests/k6/. */
async function probe(contents: string): Promise<string> {
  const r = await build({ ...K6_BUILD_OPTIONS, stdin: { contents, resolveDir: K6_SOURCE_DIR, loader: 'ts', sourcefile: 'probe.ts' } });
  return r.outputFiles[0]!.text;
}

describe('the bundled vote script', () => {
  it('imports k6 modules only, inlines only this repository\'s loadtests/ and lib/, uses nothing of Node', () => {
    const specs = importSpecifiers(code);
    expect(specs.length).toBeGreaterThan(0);
    expect(new Set(specs)).toEqual(new Set(['k6', 'k6/http', 'k6/metrics']));
    expect(k6BundleProblems(code)).toEqual([]);
    expect(bundledModules(code).every((m) => /^(loadtests|lib)\/[\w/.-]+\.ts$/.test(m))).toBe(true);
  });

  it("carries the runner's own modules, each rule defined once: nothing is copied to keep equal", () => {
    expect(bundledModules(code)).toEqual(
      expect.arrayContaining(['loadtests/plan.ts', 'loadtests/votes.ts', 'loadtests/reconcile.ts', 'loadtests/mix.ts', 'loadtests/thresholds.ts', 'lib/parse.ts', 'lib/catalog.ts']),
    );
    const rules: Record<string, string> = {
      parseStages: 'loadtests/plan.ts',
      parseMix: 'loadtests/plan.ts',
      parseHeroWeights: 'loadtests/plan.ts',
      PLAN_DEFAULTS: 'loadtests/plan.ts',
      duration: 'lib/parse.ts',
      voteBodyOutcome: 'loadtests/votes.ts',
      heroOptions: 'loadtests/votes.ts',
      classifyK6Error: 'loadtests/votes.ts',
      lostAndExtra: 'loadtests/votes.ts',
      compareCounts: 'loadtests/reconcile.ts',
      judgeDrain: 'loadtests/reconcile.ts',
      describeReconciliation: 'loadtests/reconcile.ts',
      routePicker: 'loadtests/mix.ts',
      parseThreshold: 'loadtests/thresholds.ts',
    };
    for (const [name, module] of Object.entries(rules)) expect(definedIn(code, name), name).toEqual([module]);
    // The k6 script's own modules define none of them.
    expect(bundledModules(code).filter((m) => m.startsWith('loadtests/k6/'))).toEqual(expect.arrayContaining(['loadtests/k6/vote.ts', 'loadtests/k6/lib/options.ts']));
  });

  it('refuses what would not run under k6: an npm package inlined, a Node built-in imported, Node globals', async () => {
    // A runner module that pulls in an npm package: the bundle's own comments give it away.
    const npm = k6BundleProblems(await probe("import { stringify } from 'yaml'; export default function () { stringify({}); }"));
    expect(npm).toEqual(expect.arrayContaining([expect.stringMatching(/^inlines yaml \(node_modules\/yaml\/.*\.js\)/)]));
    // Node's built-ins do not even resolve for k6's platform.
    await expect(probe("import { readFileSync } from 'node:fs'; export default function () { readFileSync('x'); }")).rejects.toThrow(/Could not resolve "node:fs"/);
    await expect(probe("import { runLoad } from '../engine.ts'; export default function () { runLoad; }")).rejects.toThrow(/Could not resolve/);
    // A Node import left external, or Node's globals, in the output.
    expect(k6BundleProblems('import { readFileSync } from "node:fs";\nexport { readFileSync };\n')).toEqual([
      'imports node:fs: k6 offers only k6, k6/http, k6/metrics',
      'uses "node:, which k6 does not have',
    ]);
    expect(k6BundleProblems('var b = Buffer.from("x");\n')).toEqual(['uses Buffer, which k6 does not have']);
  });

  it('is JavaScript: no TypeScript syntax left', async () => {
    await expect(transform(code, { loader: 'js', format: 'esm' })).resolves.toBeDefined();
    expect(code).not.toMatch(/\.ts["']/);
  });

  it('uses no syntax newer than ES2017', () => {
    // TypeScript lowers anything newer than its target; identical output means nothing needed lowering.
    const emit = (target: ts.ScriptTarget) =>
      ts.transpileModule(code, { compilerOptions: { target, module: ts.ModuleKind.ESNext, allowJs: true }, fileName: 'vote.js' }).outputText;
    expect(emit(ts.ScriptTarget.ES2017)).toBe(emit(ts.ScriptTarget.ESNext));
  });

  it('calls no built-in newer than ES2017', () => {
    expect(code).not.toMatch(/\.(flatMap|flat|at|replaceAll|matchAll|findLast|findLastIndex)\(|Object\.(fromEntries|hasOwn)\(|structuredClone|AbortSignal|\bfetch\(|\bnew URL\(/);
  });

  it('exports what k6 runs: options, setup, the default function, teardown, handleSummary', () => {
    const exported = [...code.matchAll(/^export\s*\{([^}]*)\}/gm)].flatMap((m) => m[1]!.split(',').map((s) => s.trim().split(/\s+as\s+/).pop()!));
    expect(exported).toEqual(expect.arrayContaining(['options', 'setup', 'default', 'teardown', 'handleSummary']));
  });

  it('fits in a Kubernetes ConfigMap', () => {
    expect(Buffer.byteLength(code)).toBeLessThan(1_048_576);
  });
});

describe('npm run k6:build', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'k6-build-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes dist/k6/<script>.js', async () => {
    const files = await writeK6Bundles(dir);
    expect(files).toEqual([join(dir, 'vote.js')]);
    expect(readFileSync(files[0]!, 'utf8')).toBe(code);
  });
});
