import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../lib/errors.ts';
import { renderRunReport, writeReport } from '../report.ts';
import { evaluateRun } from '../thresholds.ts';
import { fakeResult } from './fixtures/results.ts';

// The report folder is written after the whole load: a folder that cannot be written
// is one line naming it and the reason (exit 3), and the key never reaches a file.

const dir = mkdtempSync(join(tmpdir(), 'report-write-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeReport', () => {
  it('writes every file of the report with the secrets scrubbed', () => {
    const r = fakeResult({ conditions: { ...fakeResult().conditions, note: 'key Secret-Key' } });
    const out = join(dir, 'ok');
    writeReport(out, renderRunReport(r, evaluateRun([], r)), ['Secret-Key']);
    expect(readdirSync(out).sort()).toEqual(['report.html', 'summary.json', 'summary.md']);
    for (const f of readdirSync(out)) expect(readFileSync(join(out, f), 'utf8')).not.toContain('Secret-Key');
  });

  it('a folder that cannot be written is one line naming it, exit 3', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    const r = fakeResult();
    const write = () => writeReport(join(file, 'report'), renderRunReport(r, evaluateRun([], r)), []);
    expect(write).toThrow(expect.objectContaining({ message: expect.stringMatching(new RegExp(`^cannot write to ${join(file, 'report')}: .*ENOTDIR`)), exitCode: EXIT.unjudged }));
  });
});
