// The named templates of templates/*.tmpl as self-contained text, for places
// that cannot load template files (an AlertmanagerConfig's fields): a define's
// body with every `{{ template "name" . }}` it calls replaced by that body.

/** `{{ … }}` actions, with their trim markers. */
const ACTION = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;

interface Definition {
  body: string;
}

/** Every `{{ define "name" }}…{{ end }}` in the files, nested blocks honoured. */
function definitions(files: Record<string, string>): Map<string, Definition> {
  const defs = new Map<string, Definition>();
  for (const text of Object.values(files)) {
    let open: { name: string; bodyStart: number; trimStart: boolean; depth: number } | undefined;
    for (const m of text.matchAll(ACTION)) {
      const [whole, leftTrim, action, rightTrim] = m as unknown as [string, string, string, string];
      const at = m.index;
      const define = /^define\s+"([^"]+)"$/.exec(action);
      if (!open) {
        if (define) open = { name: define[1]!, bodyStart: at + whole.length, trimStart: rightTrim === '-', depth: 1 };
        continue;
      }
      if (/^(if|range|with|block|define)\b/.test(action)) open.depth += 1;
      else if (action === 'end' && --open.depth === 0) {
        let body = text.slice(open.bodyStart, at);
        if (open.trimStart) body = body.replace(/^\s+/, '');
        if (leftTrim === '-') body = body.replace(/\s+$/, '');
        defs.set(open.name, { body });
        open = undefined;
      }
    }
    if (open) throw new Error(`template "${open.name}" has no matching {{ end }}`);
  }
  return defs;
}

/** The body of template `name` with the templates it calls inlined. */
export function inlineTemplate(files: Record<string, string>, name: string): string {
  const defs = definitions(files);
  const expand = (n: string, seen: readonly string[]): string => {
    const def = defs.get(n);
    if (!def) throw new Error(`no template named "${n}"`);
    if (seen.includes(n)) throw new Error(`template "${n}" calls itself`);
    return def.body.replace(ACTION, (whole: string, leftTrim: string, action: string, rightTrim: string) => {
      const call = /^template\s+"([^"]+)"(?:\s+(\S+))?$/.exec(action);
      if (!call) return whole;
      // Inlining is exact only where the call passes the dot and trims nothing around it.
      if (call[2] !== '.' || leftTrim || rightTrim) throw new Error(`cannot inline ${whole} in "${n}": only {{ template "x" . }} is supported`);
      return expand(call[1]!, [...seen, n]);
    });
  };
  return expand(name, []);
}
