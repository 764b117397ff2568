import { describe, expect, it } from 'vitest';
import { resultsV1, resultsV2, tally } from '../data/tally.ts';

describe('vote tally', () => {
  it('counts one vote per line, ignoring blank lines', () => {
    expect([...tally('Hulk\nThor\nHulk\n\n').entries()]).toEqual([
      ['Hulk', 2],
      ['Thor', 1],
    ]);
  });

  it('/results maps heroes to counts with sorted keys', () => {
    expect(JSON.stringify(resultsV1(tally('Thor\nHulk\nThor\n')))).toBe('{"Hulk":1,"Thor":2}');
  });

  it('/v2/results sorts by votes and gives percent truncated to one decimal, as the brief shows', () => {
    expect(resultsV2(tally('Superman\nDeadpool\nDeadpool\n'))).toEqual([
      ['Deadpool', 2, 66.6],
      ['Superman', 1, 33.3],
    ]);
  });

  it('keeps first-seen order for ties (a stable sort, like Python) and handles exact percentages', () => {
    expect(resultsV2(tally('Thor\nHulk\nHulk\nThor\nIron Man\nIron Man\nIron Man\nBatman\n'))).toEqual([
      ['Iron Man', 3, 37.5],
      ['Thor', 2, 25],
      ['Hulk', 2, 25],
      ['Batman', 1, 12.5],
    ]);
    expect(resultsV2(tally('A\nB\nB\nB\nB\nB\n'))).toEqual([
      ['B', 5, 83.3],
      ['A', 1, 16.6],
    ]);
  });

  it('an empty votes file gives empty results', () => {
    expect(resultsV2(tally(''))).toEqual([]);
    expect(resultsV1(tally(''))).toEqual({});
  });
});
