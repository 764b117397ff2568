import { assertNever } from '../lib/assert.ts';

// What each request is: mostly votes for heroes drawn from the target's own
// /options, plus the reads a UI makes. Seeded so a run can be replayed.

export type Route = 'vote' | 'results' | 'options';
export const HERO_DISTRIBUTIONS = ['uniform', 'weighted', 'zipf'] as const;
export type HeroDistribution = (typeof HERO_DISTRIBUTIONS)[number];

/** Relative weights of the request kinds. */
export interface MixWeights {
  vote: number;
  results: number;
  options: number;
}

/** A UI user loads the options, votes, and looks at the results now and then. */
export const DEFAULT_MIX: MixWeights = { vote: 90, results: 8, options: 2 };

/** mulberry32: a tiny, fast, seedable PRNG returning [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pick from `items` with the given relative weights. */
function weightedPicker<T>(items: readonly T[], weights: readonly number[], random: () => number): () => T {
  const total = weights.reduce((a, b) => a + b, 0);
  if (!(total > 0) || items.length === 0) throw new Error('nothing to pick from');
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));
  return () => {
    const r = random();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (r < cumulative[mid]!) hi = mid;
      else lo = mid + 1;
    }
    return items[lo]!;
  };
}

/** Weights of each hero: equal, given per name (unlisted = 1), or Zipf (s = 1) in the target's options order. */
export function heroWeights(heroes: readonly string[], distribution: HeroDistribution, given: Record<string, number> = {}): number[] {
  switch (distribution) {
    case 'uniform':
      return heroes.map(() => 1);
    case 'weighted':
      return heroes.map((h) => given[h] ?? 1);
    case 'zipf':
      return heroes.map((_, i) => 1 / (i + 1));
    default:
      return assertNever(distribution, 'hero distribution');
  }
}

export function heroPicker(heroes: readonly string[], distribution: HeroDistribution, random: () => number, given?: Record<string, number>): () => string {
  return weightedPicker(heroes, heroWeights(heroes, distribution, given), random);
}

export function routePicker(mix: MixWeights, random: () => number): () => Route {
  const routes: Route[] = ['vote', 'results', 'options'];
  return weightedPicker(routes, [mix.vote, mix.results, mix.options], random);
}
