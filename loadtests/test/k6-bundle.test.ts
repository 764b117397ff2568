import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { transform } from 'esbuild';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleK6, writeK6Bundles } from '../k6bundle.ts';

// What `npm run k6:build` produces is what a k6 binary will load: plain JavaScript,
// k6's own modules as its only imports, nothing of Node or TypeScript left.

let code: string;
beforeAll(async () => {
  code = (await bundleK6()).vote;
});

const importSpecifiers = (js: string) => [...js.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s*["']([^"']+)["']|^\s*import\s*["']([^"']+)["']/gm)].map((m) => m[1] ?? m[2]);

describe('the bundled vote script', () => {
  it('imports k6 modules only', () => {
    const specs = importSpecifiers(code);
    expect(specs.length).toBeGreaterThan(0);
    expect(new Set(specs)).toEqual(new Set(['k6', 'k6/http', 'k6/metrics']));
    expect(code).not.toMatch(/\brequire\s*\(|\bimport\s*\(|["']node:|\bprocess\.|\bBuffer\b|__dirname/);
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
    expect(code).not.toMatch(/\.(flatMap|flat|at|replaceAll|findLast|findLastIndex)\(|Object\.(fromEntries|hasOwn)\(|structuredClone|AbortSignal|\bfetch\(/);
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
