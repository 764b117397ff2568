/**
 * The default of an exhaustive `switch`: the compiler rejects the call while a
 * case is missing (the value is not `never` then), and at run time it throws
 * for a value the types did not foresee, e.g. one read from untyped JSON.
 */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
