import { z } from 'zod';
import { describeError } from '../../lib/errors.ts';
import { selectorTerms } from '../../lib/kube.ts';
import { duration as parseDuration, url as parseUrl } from '../../lib/parse.ts';
import { parseComparison } from '../compare.ts';

// The field types experiment files are made of, as zod schemas: each one validates,
// says what it expects in one phrase, and turns the text into the value the plan
// holds (durations in ms). Kubernetes names and selectors are checked here, so a
// typo is an input error before any cluster call, not a 400 from the API server.

/** A strict mapping: an unknown field is an error that lists the allowed ones. */
export function mapping<S extends z.ZodRawShape>(shape: S) {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (iss) =>
      iss.code === 'unrecognized_keys'
        ? `unknown field ${iss.keys.map((k) => `"${k}"`).join(', ')} (allowed: ${allowed})`
        : iss.code === 'invalid_type'
          ? iss.input === undefined
            ? 'is required'
            : 'expected a mapping'
          : undefined,
  });
}

const required = (what: string) => (iss: { input: unknown }) => (iss.input === undefined ? 'is required' : `expected ${what}, got ${JSON.stringify(iss.input)}`);

export const text = z.string({ error: required('a non-empty string') }).trim().min(1, { error: 'expected a non-empty string' });

/** A whole number ≥ min: Kubernetes wants integers for counts and seconds, and a fraction of a pod is a bug. */
export const wholeNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .int({ error: required('a whole number') })
    .min(min, { error: `expected a whole number ≥ ${min}` })
    .max(max, { error: `expected a whole number ≤ ${max}` });

export const positiveNumber = (min: number, max = Number.MAX_SAFE_INTEGER) =>
  z
    .number({ error: required('a number') })
    .min(min, { error: `expected a number ≥ ${min}` })
    .max(max, { error: `expected a number ≤ ${max}` });

/** Grace periods go to the API as whole seconds. */
export const graceSeconds = wholeNumber(0, 3600).meta({ description: "delete grace period in whole seconds (default: the pod's own terminationGracePeriodSeconds)" });

const DURATION_TEXT = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$|^\d+(?:\.\d+)?$/;
const shownMs = (ms: number) => (ms >= 1000 ? `${ms / 1000}s` : `${ms}ms`);

/** A duration (`500ms`, `30s`, `2m`, `1m30s`, or a number of seconds), held in ms, at least `minMs`. */
const durationError = (iss: { input: unknown }) => (iss.input === undefined ? 'is required' : `expected a duration such as 500ms, 30s, 2m, got ${JSON.stringify(iss.input)}`);

export const duration = (minMs = 0) =>
  z
    .union([z.number().min(0, { error: durationError }), z.string().trim().regex(DURATION_TEXT, { error: durationError })], { error: durationError })
    .meta({ description: minMs ? `a duration such as 500ms, 30s, 2m (at least ${shownMs(minMs)})` : 'a duration such as 500ms, 30s, 2m' })
    .transform((v, ctx) => {
      const ms = typeof v === 'number' ? v * 1000 : parseDuration(v, 'duration');
      if (ms < minMs) ctx.issues.push({ code: 'custom', input: v, message: `expected at least ${shownMs(minMs)}, got ${v}` });
      return ms;
    });

/** A threshold such as `>= 2`, `<= 1%`, `< 500` (a bare number means `>=`). */
export const threshold = z
  .union([z.string(), z.number()], { error: required('a threshold such as ">= 2" or "<= 1%"') })
  .meta({ description: 'a comparison such as ">= 2", "<= 1%" or "< 500"' })
  .transform((v, ctx) => {
    const s = String(v).trim();
    try {
      parseComparison(s, 'threshold');
    } catch {
      ctx.issues.push({ code: 'custom', input: v, message: `invalid threshold "${s}": expected e.g. ">= 2" or "<= 0.01"` });
    }
    return s;
  });

const DNS_SUBDOMAIN = /^(?=.{1,253}$)[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The name of a Deployment, HPA or node: a DNS-1123 subdomain, as the API server requires. */
export const objectName = z
  .string({ error: required('a Kubernetes object name') })
  .regex(DNS_SUBDOMAIN, { error: (iss) => `expected a Kubernetes object name (lowercase letters, digits, '-' and '.'), got ${JSON.stringify(iss.input)}` });

export const namespaceName = z
  .string({ error: required('a namespace name') })
  .regex(DNS_LABEL, { error: (iss) => `expected a namespace name (a DNS label), got ${JSON.stringify(iss.input)}` });

const LABEL_NAME = '[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
const LABEL_KEY = `(${DNS_SUBDOMAIN.source.slice(1, -1)}/)?${LABEL_NAME}`;
const LABEL_VALUE = `(${LABEL_NAME})?`;
const SELECTOR_TERM = new RegExp(
  `^(!?${LABEL_KEY}|${LABEL_KEY}\\s*(=|==|!=)\\s*${LABEL_VALUE}|${LABEL_KEY}\\s+(in|notin)\\s*\\(\\s*${LABEL_VALUE}(\\s*,\\s*${LABEL_VALUE})*\\s*\\))$`,
);

/** Whether a label selector is one the API server would accept (equality- and set-based terms). */
export function isLabelSelector(s: string): boolean {
  return s.trim() !== '' && selectorTerms(s).every((t) => SELECTOR_TERM.test(t));
}

export const labelSelector = z
  .string({ error: required('a label selector') })
  .refine(isLabelSelector, { error: (iss) => `expected a label selector such as tier=app or app=myhero,tier in (app,ui), got ${JSON.stringify(iss.input)}` })
  .meta({ description: 'a label selector such as tier=app or app=myhero,tier=app' });

/** An http(s) URL without credentials in it (they would be echoed into logs and reports). */
export const httpUrl = z
  .string({ error: required('a URL') })
  .meta({ description: 'an http(s) URL, without user:password@' })
  .transform((v, ctx) => {
    try {
      const u = parseUrl(v, 'URL');
      if (!/^https?:/.test(u)) throw new Error(`expected an http:// or https:// URL, got "${v}"`);
      return u;
    } catch (err) {
      ctx.issues.push({ code: 'custom', input: v, message: describeError(err) });
      return v;
    }
  });

/** One line for the first problem zod found, naming its place: `method[0].pod-kill.count: expected a whole number ≥ 1, got 1.5`. */
export function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.reduce<string>((p, k) => (typeof k === 'number' ? `${p}[${k}]` : p ? `${p}.${String(k)}` : String(k)), '');
  return `${path || 'top level'}: ${issue.message}`;
}
