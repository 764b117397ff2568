import { UserError } from '../lib/errors.ts';

// Thresholds written as text in experiments: `>= 2`, `<= 0.01`, `== 1`, `< 500`.

export interface Comparison {
  op: '>=' | '<=' | '>' | '<' | '==' | '!=';
  value: number;
  text: string;
  test(x: number): boolean;
}

export function parseComparison(raw: string | number, where: string): Comparison {
  const text = String(raw).trim();
  const m = /^(>=|<=|==|!=|>|<)?\s*(-?\d+(?:\.\d+)?)(%)?$/.exec(text);
  if (!m) throw new UserError(`invalid threshold "${text}" in ${where}: expected e.g. ">= 2" or "<= 0.01"`, 2);
  const op = (m[1] ?? '>=') as Comparison['op'];
  const value = Number(m[2]) / (m[3] ? 100 : 1);
  const tests: Record<Comparison['op'], (x: number) => boolean> = {
    '>=': (x) => x >= value,
    '<=': (x) => x <= value,
    '>': (x) => x > value,
    '<': (x) => x < value,
    '==': (x) => x === value,
    '!=': (x) => x !== value,
  };
  return { op, value, text: `${op} ${value}`, test: tests[op] };
}
