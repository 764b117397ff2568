// Defaults and lower bounds of chaos settings, shared by the command-line flags and
// the experiment schema. The bounds keep a typo (`--poll 0`, `every: 1ms`) from
// turning a game day into a loop that hammers the API server.

/** Defaults for the fields a game-day file (or a flag) may leave out, in milliseconds unless named otherwise. */
export const GAMEDAY_DEFAULTS = {
  steadyStateRecoveryMs: 120_000,
  rolloutWithinMs: 300_000,
  evictionTimeoutMs: 120_000,
  evictionRetryMs: 5_000,
  nodeNotReadyTimeoutMs: 120_000,
  nodeRecoverTimeoutMs: 600_000,
  hookTimeoutMs: 60_000,
  hpaMetricWithinMs: 120_000,
  nodeKillSelector: 'app=myhero',
  /** http-fault: how long the fault stays, how long the mesh may take to apply or remove it (left out of the verdicts), how long the step watches after removing it. */
  httpFaultDurationMs: 120_000,
  httpFaultSettleMs: 5_000,
  httpFaultRecoveryMs: 15_000,
  /** http-fault with a url: requests per second of its own measurement. */
  httpFaultSampleRate: 5,
  /** http-fault: the widest half-interval (share of requests) a verdict may rest on; wider is "not observed". */
  httpFaultPrecision: 0.1,
} as const;

/** The shortest intervals accepted, in milliseconds: each one is a loop of API calls or of disruptions. */
export const MIN_INTERVAL_MS = {
  /** How often waits poll the API. */
  poll: 100,
  /** How often the timeline is sampled (a get per observed object, a list of events). */
  sample: 100,
  /** Between retries of an eviction a PodDisruptionBudget refused. */
  evictionRetry: 100,
  /** Between two rounds of a repeated pod kill. */
  podKillEvery: 1_000,
} as const;

/**
 * What a step may take beyond the waits it declares (its API calls, a slow API server)
 * before the executor stops it: a stuck call must not hold a game day until --timeout.
 */
export const STEP_LIMIT_SLACK_MS = 60_000;
