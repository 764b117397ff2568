// Globals the k6 runtime has that @types/k6 does not declare.
declare const console: {
  log(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
};

// lib/errors.ts (bundled in through the runner's threshold parser) names Node's
// error type for its `code`; k6 errors never carry one, so the bare shape is enough.
declare namespace NodeJS {
  interface ErrnoException extends Error {
    code?: string;
  }
}

// lib/parse.ts (bundled in for its duration and number parsers) has a url() parser
// built on the URL global, which k6 lacks. esbuild drops it as unused, and the bundle
// test refuses any `new URL(` that reaches the bundle; this declaration only lets that
// module type-check.
interface URL {
  protocol: string;
  username: string;
  password: string;
  host: string;
  pathname: string;
}
declare const URL: new (url: string) => URL;
