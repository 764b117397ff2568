import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkSectionKeys, loadConfigFile, redactSettings, resolveSettings, setting } from '../config.ts';
import { UserError } from '../errors.ts';
import * as p from '../parse.ts';

const spec = {
  voters: setting({ flag: '--voters <n>', describe: 'voters', default: 10, parse: p.int(1, 1000), env: ['VOTERS'] }),
  duration: setting({ flag: '--duration <d>', describe: 'how long', default: 30_000, parse: p.duration }),
  key: setting({ flag: '--key <key>', describe: 'key', default: '', parse: p.string, env: ['MYHERO_APP_KEY'], secret: true }),
  mode: setting({ flag: '--mode <m>', describe: 'mode', default: 'direct' as 'direct' | 'queue', parse: p.oneOf(['direct', 'queue'] as const) }),
};

describe('resolveSettings', () => {
  it('applies default < file < env < flag', () => {
    expect(resolveSettings(spec, { env: {} }).voters).toBe(10);
    expect(resolveSettings(spec, { env: {}, file: { voters: 20 } }).voters).toBe(20);
    expect(resolveSettings(spec, { env: { VOTERS: '30' }, file: { voters: 20 } }).voters).toBe(30);
    expect(resolveSettings(spec, { env: { VOTERS: '30' }, file: { voters: 20 }, flags: { voters: '40' } }).voters).toBe(40);
  });

  it('parses durations and enums, and rejects bad values with a UserError naming the source', () => {
    expect(resolveSettings(spec, { env: {}, flags: { duration: '1m30s' } }).duration).toBe(90_000);
    expect(resolveSettings(spec, { env: {}, flags: { duration: '250ms' } }).duration).toBe(250);
    expect(() => resolveSettings(spec, { env: {}, flags: { mode: 'fast' } })).toThrow(/invalid --mode "fast": expected one of direct\|queue/);
    expect(() => resolveSettings(spec, { env: { VOTERS: 'lots' } })).toThrow(UserError);
    expect(() => resolveSettings(spec, { env: {}, file: { duration: '10 parsecs' } })).toThrow(/config file/);
  });

  it('reads a shared setting from its own section, for every command, and refuses it in a command section', () => {
    const shared = { ...spec, namespace: setting({ flag: '--namespace <ns>', describe: 'ns', default: 'default', parse: p.string, section: 'monitoring' }) };
    const sections = { monitoring: { namespace: 'votes' }, loadtest: { voters: 20 } };
    expect(resolveSettings(shared, { env: {}, file: sections.loadtest, sections })).toMatchObject({ namespace: 'votes', voters: 20 });
    expect(resolveSettings(shared, { env: {}, sections, flags: { namespace: 'other' } }).namespace).toBe('other');
    expect(() => resolveSettings(shared, { env: {}, file: { namespace: 'x' }, sections })).toThrow(
      'config file: "namespace" belongs in the "monitoring" section, which every command reading it shares; move it there',
    );
    expect(() => resolveSettings(shared, { env: {}, sections: { monitoring: ['votes'] } })).toThrow('config file: section "monitoring" must be a mapping of settings');
  });

  it('masks secrets when settings are shown', () => {
    const cfg = resolveSettings(spec, { env: { MYHERO_APP_KEY: 'SecureApp' } });
    expect(cfg.key).toBe('SecureApp');
    expect(JSON.stringify(redactSettings(spec, cfg))).not.toContain('SecureApp');
  });
});

describe('checkSectionKeys', () => {
  it('refuses a key no command of the section knows, naming it and the known ones', () => {
    const known = new Set(Object.keys(spec));
    expect(() => checkSectionKeys('loadtest', { voters: 5, duration: '1m' }, known)).not.toThrow();
    const err = (() => {
      try {
        checkSectionKeys('loadtest', { voter: 5 }, known);
      } catch (e) {
        return e as UserError;
      }
      return undefined;
    })();
    expect(err?.message).toBe('config file: unknown key "voter" in section loadtest (known: duration, key, mode, voters)');
    expect(err?.exitCode).toBe(2);
  });
});

describe('loadConfigFile', () => {
  it('reads sections from YAML and reports bad files in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
    writeFileSync(join(dir, 'ok.yaml'), 'loadtest:\n  voters: 25\n');
    expect(loadConfigFile(join(dir, 'ok.yaml'), {})).toEqual({ loadtest: { voters: 25 } });
    writeFileSync(join(dir, 'bad.yaml'), 'loadtest: [unclosed\n');
    expect(() => loadConfigFile(join(dir, 'bad.yaml'), {})).toThrow(/not valid YAML/);
    expect(() => loadConfigFile(join(dir, 'bad.yaml'), {})).toThrow(/ at line 2, column 1$/);
    expect(() => loadConfigFile(join(dir, 'missing.yaml'), {})).toThrow(/cannot read config file/);
  });
});

describe('parsers', () => {
  it('host:port', () => {
    expect(p.hostPort('0.0.0.0:9243', '--listen')).toEqual({ host: '0.0.0.0', port: 9243 });
    expect(p.hostPort(':9243', '--listen')).toEqual({ host: '0.0.0.0', port: 9243 });
    expect(() => p.hostPort('9243', '--listen')).toThrow(/host:port/);
  });
  it('url strips trailing slashes and refuses garbage', () => {
    expect(p.url('http://127.0.0.1:15001/', '--target')).toBe('http://127.0.0.1:15001');
    expect(() => p.url('not a url', '--target')).toThrow(/expected a URL/);
  });
  it('url refuses credentials in the URL without echoing them', () => {
    const err = (() => {
      try {
        p.url('https://admin:hunter2@grafana.example:3000/', '--grafana-url');
      } catch (e) {
        return e as UserError;
      }
      return undefined;
    })();
    expect(err?.message).toBe(
      'invalid --grafana-url "https://[redacted]@grafana.example:3000/": expected a URL without user:password@ (it would be echoed into logs and reports; pass credentials through the key, token or credentials-file option instead)',
    );
    expect(err?.exitCode).toBe(2);
  });
});
