import { describe, expect, it } from 'vitest';
import { assertNever } from '../assert.ts';

type Shape = { kind: 'circle'; r: number } | { kind: 'square'; side: number };

function area(s: Shape): number {
  switch (s.kind) {
    case 'circle':
      return Math.PI * s.r ** 2;
    case 'square':
      return s.side ** 2;
    default:
      return assertNever(s, 'shape kind');
  }
}

describe('assertNever', () => {
  it('is unreachable for the values the types allow', () => {
    expect(area({ kind: 'square', side: 3 })).toBe(9);
  });

  it('throws, naming the value, for one the types did not foresee', () => {
    expect(() => area(JSON.parse('{"kind":"triangle"}') as Shape)).toThrow('unexpected shape kind: {"kind":"triangle"}');
  });
});
