// The run's journal (chaostoolkit's word): everything that happened, in order,
// with times relative to the start, so a report can be rebuilt from it alone.

export type RunStatus = 'completed' | 'failed' | 'interrupted' | 'aborted';

export interface ActionEntry {
  t: number;
  name: string;
  detail: string;
  ok: boolean;
  dryRun?: boolean;
  error?: string;
}

export interface ProbeEntry {
  t: number;
  name: string;
  /** When in the run the probe was taken: before/after the method, or during it. */
  phase: 'before' | 'during' | 'after';
  ok: boolean;
  value?: number | string | boolean;
  reason: string;
}

export interface RollbackEntry {
  t: number;
  name: string;
  ok: boolean;
  error?: string;
  /** The command that does the same by hand (secret-looking values redacted). */
  command?: string;
}

/** One step of the method, as the executor ran it (chaostoolkit's activity run). */
export interface StepEntry {
  /** Position in the method, from 1. */
  index: number;
  kind: string;
  description: string;
  /** Start and end, ms since the run started. */
  t: number;
  end?: number;
  durationMs?: number;
  status: 'running' | 'succeeded' | 'failed' | 'timed out' | 'interrupted' | 'dry run';
  error?: string;
}

/** A stretch of the run something was in force, e.g. an injected fault, shaded on the timeline. */
export interface WindowEntry {
  name: string;
  from: number;
  /** Unset while it lasts (or when the run ended before it was closed). */
  to?: number;
}

export interface ObservedEvent {
  t: number;
  at: string;
  type: string;
  reason: string;
  object: string;
  message: string;
  count: number;
}

/** One point of the timeline chart. */
export interface Sample {
  t: number;
  readyReplicas?: number;
  hpaReplicas?: number;
  hpaDesiredReplicas?: number;
  /** Failed share of the requests sent in the last load interval (0..1). */
  errorRate?: number;
  requests?: number;
}

/** A verdict's outcome; what the run did not see happen is `not observed`, never passed. */
export type Outcome = 'pass' | 'fail' | 'not observed';

export interface Verdict {
  name: string;
  outcome: Outcome;
  reason: string;
}

/** The outcome of a check that was observed. */
export const outcome = (pass: boolean): Outcome => (pass ? 'pass' : 'fail');

export interface JournalData {
  title: string;
  command: string;
  namespace: string;
  context: string;
  server: string;
  dryRun: boolean;
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  status: RunStatus;
  error?: string;
  /** The command's exit code for this run (EXIT in lib/errors.ts). */
  exitCode?: number;
  /** What the run was measured under (cluster, load, timing) for the report's conditions section. */
  conditions: Record<string, string | number | boolean>;
  plan: string[];
  steps: StepEntry[];
  actions: ActionEntry[];
  windows: WindowEntry[];
  probes: ProbeEntry[];
  rollbacks: RollbackEntry[];
  events: ObservedEvent[];
  samples: Sample[];
  /** Named durations and counts the run measured, e.g. node-kill's time to NotReady. */
  measurements: Record<string, number>;
  verdicts: Verdict[];
}

/** Told about each entry as it is recorded: the CLI turns it into log lines and the progress line. */
export type JournalListener = (
  kind: 'step' | 'action' | 'probe' | 'rollback' | 'sample' | 'verdict',
  entry: StepEntry | ActionEntry | ProbeEntry | RollbackEntry | Sample | Verdict,
) => void;

export class Journal {
  readonly data: JournalData;
  private readonly start = Date.now();

  constructor(
    init: Pick<JournalData, 'title' | 'command' | 'namespace' | 'context' | 'server' | 'dryRun' | 'plan' | 'conditions'>,
    private readonly listener: JournalListener = () => undefined,
  ) {
    this.data = {
      ...init,
      startedAt: new Date(this.start).toISOString(),
      status: 'completed',
      steps: [],
      actions: [],
      windows: [],
      probes: [],
      rollbacks: [],
      events: [],
      samples: [],
      measurements: {},
      verdicts: [],
    };
  }

  /** Milliseconds since the run started. */
  now(): number {
    return Date.now() - this.start;
  }

  get startMs(): number {
    return this.start;
  }

  /** A step starts; the returned function records how it ended. */
  step(e: Pick<StepEntry, 'index' | 'kind' | 'description'>): (status: StepEntry['status'], error?: string) => void {
    const entry: StepEntry = { ...e, t: this.now(), status: 'running' };
    this.data.steps.push(entry);
    return (status, error) => {
      entry.end = this.now();
      entry.durationMs = entry.end - entry.t;
      entry.status = status;
      if (error) entry.error = error;
      this.listener('step', entry);
    };
  }

  /** A window opens now; close it with the returned function (closing twice keeps the first end). */
  window(name: string): () => void {
    const entry: WindowEntry = { name, from: this.now() };
    this.data.windows.push(entry);
    return () => void (entry.to ??= this.now());
  }

  action(e: Omit<ActionEntry, 't'>): ActionEntry {
    const entry = { t: this.now(), ...e };
    this.data.actions.push(entry);
    this.listener('action', entry);
    return entry;
  }

  probe(e: Omit<ProbeEntry, 't'>): ProbeEntry {
    const entry = { t: this.now(), ...e };
    this.data.probes.push(entry);
    this.listener('probe', entry);
    return entry;
  }

  rollback(e: Omit<RollbackEntry, 't'>): void {
    const entry = { t: this.now(), ...e };
    this.data.rollbacks.push(entry);
    this.listener('rollback', entry);
  }

  event(e: ObservedEvent): void {
    this.data.events.push(e);
  }

  sample(s: Sample): void {
    this.data.samples.push(s);
    this.listener('sample', s);
  }

  measure(name: string, value: number): void {
    this.data.measurements[name] = value;
  }

  verdict(v: Verdict): void {
    this.data.verdicts.push(v);
    this.listener('verdict', v);
  }

  finish(status: RunStatus, error: string | undefined, exitCode: number): void {
    this.data.status = status;
    if (error) this.data.error = error;
    this.data.exitCode = exitCode;
    this.data.endedAt = new Date().toISOString();
    this.data.durationMs = this.now();
  }
}
