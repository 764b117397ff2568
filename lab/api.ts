// API details shared by the twin's app and data services, beyond the bodies in lib/defaults.ts.

/** Optional header carrying a vote's id, so data records a redelivered vote only once. */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** The original services stamp `/options` and `/v2/results` answers with this header. */
export const DATA_TIMESTAMP_HEADER = 'data_timestamp';

/** The local time as Python's `str(datetime.now())` prints it: `2024-05-01 12:34:56.789000`. */
export function pythonNow(at = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())} ${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())}.${p(at.getMilliseconds(), 3)}000`;
}

/** The original's 400 bodies for malformed option changes (app and data answer the same). */
export const OPTION_ERRORS = {
  put: { Error: "API expects dictionary object with single element and key of 'option'" },
  post: { Error: "API expects dictionary object with single element with key 'option' and value a list of options" },
} as const;

/** myhero-app adds these to every answer so the browser UI on another origin can call it. */
export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': 'Content-Type,Authorization,Key',
  'access-control-allow-methods': 'GET,PUT,POST,DELETE,OPTIONS',
} as const;

/** Parse a JSON request body; undefined when it is not JSON (the caller answers 400). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `{"option": "X"}` → "X", else undefined. Line breaks are refused: the options file is one per line. */
export function optionOf(body: unknown): string | undefined {
  const option = (body as { option?: unknown } | undefined)?.option;
  return typeof option === 'string' && option !== '' && !/[\r\n]/.test(option) ? option : undefined;
}

/** `{"options": [...]}` → the list, else undefined. */
export function optionListOf(body: unknown): string[] | undefined {
  const list = (body as { options?: unknown } | undefined)?.options;
  return Array.isArray(list) && list.every((o) => typeof o === 'string' && !/[\r\n]/.test(o)) ? (list as string[]) : undefined;
}
