// Which metrics a PromQL expression reads. A small tokenizer rather than a
// regex over the text: strings, label matchers, ranges, durations, numbers,
// function and aggregation names, keywords, grouping label lists and Grafana
// variables are all skipped, and `{__name__="x"}` selectors still count.

const AGGREGATIONS = new Set([
  'sum', 'min', 'max', 'avg', 'group', 'stddev', 'stdvar', 'count', 'count_values', 'bottomk', 'topk', 'quantile', 'limitk', 'limit_ratio',
]);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'atan2', 'inf', 'nan']);
/** Keywords followed by a parenthesised list of label names, not expressions. */
const LABEL_LIST_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);

const IDENT = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const NUMBER = /^(?:0x[0-9a-fA-F]+|(?:[0-9]+(?:ms|[smhdwy]))+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)/;
/** Grafana variables: `$name`, `${name}`, `${name:format}`. (`[[name]]` is skipped as a bracket.) */
const VARIABLE = /^\$(?:\{[^}]*\}|[a-zA-Z0-9_]+)/;

/** Index just past the string literal starting at `i` (double, single or back quotes). */
function skipString(s: string, i: number): number {
  const quote = s[i];
  let j = i + 1;
  while (j < s.length && s[j] !== quote) j += quote !== '`' && s[j] === '\\' ? 2 : 1;
  return j + 1;
}

/** Index just past the bracket opened at `i`, honouring strings and nesting. */
function skipBracket(s: string, i: number, open: string, close: string): number {
  let depth = 0;
  let j = i;
  while (j < s.length) {
    const c = s[j]!;
    if (c === '"' || c === "'" || c === '`') {
      j = skipString(s, j);
      continue;
    }
    if (c === open) depth++;
    else if (c === close && --depth === 0) return j + 1;
    j++;
  }
  return j;
}

function unquote(literal: string): string {
  const body = literal.slice(1, -1);
  return literal.startsWith('`') ? body : body.replace(/\\(.)/g, '$1');
}

/** `__name__="x"` inside a matcher block names a metric too. */
function namesInMatchers(block: string): string[] {
  const out: string[] = [];
  for (const m of block.matchAll(/__name__\s*=\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)/g)) out.push(unquote(m[1]!));
  return out;
}

const nextNonSpace = (s: string, i: number): string | undefined => s.slice(i).match(/^\s*(\S)/)?.[1];

/** The metric names an expression selects, sorted and unique. */
export function metricNames(expr: string): string[] {
  const names = new Set<string>();
  const s = expr;
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    const rest = s.slice(i);
    if (/\s/.test(c)) i++;
    else if (c === '#') i = s.indexOf('\n', i) === -1 ? s.length : s.indexOf('\n', i);
    else if (c === '"' || c === "'" || c === '`') i = skipString(s, i);
    else if (c === '{') {
      const end = skipBracket(s, i, '{', '}');
      for (const n of namesInMatchers(s.slice(i, end))) names.add(n);
      i = end;
    } else if (c === '[') i = skipBracket(s, i, '[', ']');
    else if (c === '$' && VARIABLE.test(rest)) i += VARIABLE.exec(rest)![0].length;
    else if (/[0-9.]/.test(c) && NUMBER.test(rest)) i += NUMBER.exec(rest)![0].length;
    else if (IDENT.test(rest)) {
      const word = IDENT.exec(rest)![0];
      const after = i + word.length;
      const lower = word.toLowerCase();
      if (LABEL_LIST_KEYWORDS.has(lower)) {
        // `by (a, b)`: the list holds label names; `on()` may be empty.
        i = nextNonSpace(s, after) === '(' ? skipBracket(s, s.indexOf('(', after), '(', ')') : after;
      } else {
        const isCall = nextNonSpace(s, after) === '(';
        if (!isCall && !AGGREGATIONS.has(lower) && !KEYWORDS.has(lower)) names.add(word);
        i = after;
      }
    } else i++;
  }
  return [...names].sort();
}
