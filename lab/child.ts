// What the lab and each of its service processes agree on (lab.ts starts them,
// service-cli.ts is what runs in them). A module of its own so that loading the
// lab's public module does not load the services themselves.

/** Set by the lab for its children: exit when the parent's pipe closes, so no service outlives the lab. */
export const LAB_CHILD_ENV = 'MYHERO_LAB_CHILD';

/** The line a service prints on stdout once it is ready. */
export interface ReadyLine {
  ready: 'data' | 'app' | 'ernst' | 'broker';
  url: string;
  metricsUrl?: string;
}
