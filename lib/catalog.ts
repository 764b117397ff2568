// The metric catalogue: every metric name and label the suite emits or queries.
// The twin, the exporter, the load runner, the dashboards and the alerts import
// these constants, so a rename breaks the build rather than a dashboard.

/** Metrics of the myhero twin (lab/), labelled with `service` = data|app|ernst. */
export const TWIN = {
  httpRequests: 'myhero_http_requests_total',
  httpDuration: 'myhero_http_request_duration_seconds',
  /** app: votes answered "vote submitted", label `mode`. */
  votesAccepted: 'myhero_votes_accepted_total',
  /** app: votes answered "vote submission failed", labels `mode`, `reason`. */
  votesFailed: 'myhero_votes_failed_total',
  /** app (queue mode): votes acknowledged by the broker. */
  votesPublished: 'myhero_votes_published_total',
  /** ernst: votes taken off the queue and acknowledged by data. */
  votesProcessed: 'myhero_votes_processed_total',
  /** ernst: failed posts to data that will be retried. */
  ernstRetries: 'myhero_ernst_retries_total',
  /** ernst: 1 while connected and subscribed to the broker, else 0. */
  ernstConnected: 'myhero_ernst_connected',
  /** data: votes durably appended to the votes file. */
  votesRecorded: 'myhero_votes_recorded_total',
  /** data: redelivered votes ignored because their idempotency key was already recorded. */
  votesDuplicate: 'myhero_votes_duplicate_total',
  /** app: 1 for the current mode, label `mode`. */
  appMode: 'myhero_app_mode',
  /** data: slow storage profile in force (1) or not (0), label `profile`. */
  storageProfile: 'myhero_data_storage_profile',
} as const;

/** Live metrics of a running load test (loadtests/). */
export const LOADTEST = {
  votesAttempted: 'myhero_loadtest_votes_attempted_total',
  votesAccepted: 'myhero_loadtest_votes_accepted_total',
  /** label `class`: http_<status> (e.g. http_503)|vote_failed|timeout|refused|reset|other|aborted, and `read` for failed reads */
  errors: 'myhero_loadtest_errors_total',
  requests: 'myhero_loadtest_requests_total',
  latency: 'myhero_loadtest_request_duration_seconds',
  voters: 'myhero_loadtest_voters',
  backlog: 'myhero_loadtest_queue_backlog_votes',
} as const;

/**
 * Custom metrics of the k6 scripts (loadtests/k6/), with the main runner's meanings;
 * counted after the warm-up unless named otherwise. k6's Prometheus remote-write
 * output exports them as `k6_<name>` (counters with `_total`).
 */
export const K6 = {
  votesAttempted: 'myhero_votes_attempted',
  votesAccepted: 'myhero_votes_accepted',
  /** Accepted during the warm-up: not measured, but the target records them, so reconciliation needs them. */
  warmupVotesAccepted: 'myhero_warmup_votes_accepted',
  votesFailed: 'myhero_votes_failed',
  /** Rate: share of attempted votes not accepted. */
  voteFailedRate: 'myhero_vote_failed_rate',
  /** Counter of failed votes, tag `class` as in LOADTEST.errors. */
  voteErrors: 'myhero_vote_errors',
  /** Failed GET /v2/results and GET /options. */
  readErrors: 'myhero_read_errors',
  /** Every request of the mix. */
  requests: 'myhero_requests',
  /** Trend (ms) of vote latency. */
  voteDuration: 'myhero_vote_duration',
  /** Gauges set by teardown once its drain ends: the recorded count's change since setup (when read), and seconds to its last change. */
  recordedDelta: 'myhero_recorded_delta',
  drainSeconds: 'myhero_drain_seconds',
  /** Gauges set by teardown: how long its drain lasted, and how long the count had not moved at its end. */
  drainElapsedSeconds: 'myhero_drain_elapsed_seconds',
  drainStableSeconds: 'myhero_drain_stable_seconds',
  /** Gauge set by teardown: 0 when its last read of /v2/results succeeded, else that answer's HTTP status, or k6's error code (1000+) when none came. */
  drainReadError: 'myhero_drain_read_error',
  /** Counter set once by setup() when it completed: its absence in the summary means the load never ran. */
  setupCompleted: 'myhero_setup_completed',
} as const;

/** The ARM exporter (exporters/): the first three names are arm_exporter's and must not change. */
export const RPI = {
  cpuTemperature: 'rpi_cpu_temperature_celsius',
  cpuFrequency: 'rpi_cpu_frequency_hertz',
  gpuTemperature: 'rpi_gpu_temperature_celsius',
  thermalZoneTemperature: 'rpi_thermal_zone_temperature_celsius',
  coreVoltage: 'rpi_core_voltage_volts',
  throttled: 'rpi_throttled',
  collectorErrors: 'rpi_exporter_collector_errors_total',
  collectorDuration: 'rpi_exporter_collector_duration_seconds',
  buildInfo: 'rpi_exporter_build_info',
} as const;

/**
 * `rpi_throttled`'s `reason` values, in `vcgencmd get_throttled` bit order (bit 0
 * upward): the exporter decodes bits by this order, so it must not change.
 */
export const THROTTLE_REASONS = ['under_voltage', 'arm_frequency_capped', 'throttled', 'soft_temp_limit'] as const;
/** `rpi_throttled`'s `period` values: the state now (bits 0–3) and since boot (bits 16–19). */
export const THROTTLE_PERIODS = ['now', 'since_boot'] as const;
export type ThrottleReason = (typeof THROTTLE_REASONS)[number];
export type ThrottlePeriod = (typeof THROTTLE_PERIODS)[number];

/** Label names shared across the suite. */
export const LABELS = {
  service: 'service',
  route: 'route',
  method: 'method',
  code: 'code',
  mode: 'mode',
  reason: 'reason',
  profile: 'profile',
  errorClass: 'class',
} as const;

/** node-exporter series, by meaning, for code that builds queries (dashboards, alerts). */
export const NODE = {
  cpuSeconds: 'node_cpu_seconds_total',
  memAvailable: 'node_memory_MemAvailable_bytes',
  memTotal: 'node_memory_MemTotal_bytes',
  filesystemAvail: 'node_filesystem_avail_bytes',
  filesystemSize: 'node_filesystem_size_bytes',
  networkReceive: 'node_network_receive_bytes_total',
  networkTransmit: 'node_network_transmit_bytes_total',
  load1: 'node_load1',
  load5: 'node_load5',
  load15: 'node_load15',
  thermalZoneTemp: 'node_thermal_zone_temp',
  diskIoTime: 'node_disk_io_time_seconds_total',
  unameInfo: 'node_uname_info',
} as const;

/** kube-state-metrics series, by meaning. */
export const KSM = {
  hpaCurrentReplicas: 'kube_horizontalpodautoscaler_status_current_replicas',
  hpaDesiredReplicas: 'kube_horizontalpodautoscaler_status_desired_replicas',
  hpaMinReplicas: 'kube_horizontalpodautoscaler_spec_min_replicas',
  hpaMaxReplicas: 'kube_horizontalpodautoscaler_spec_max_replicas',
  deploymentSpecReplicas: 'kube_deployment_spec_replicas',
  deploymentAvailableReplicas: 'kube_deployment_status_replicas_available',
  podStatusReady: 'kube_pod_status_ready',
  containerRestarts: 'kube_pod_container_status_restarts_total',
  containerWaitingReason: 'kube_pod_container_status_waiting_reason',
  podLabels: 'kube_pod_labels',
  podInfo: 'kube_pod_info',
  /** Unix creation time of each pod: young pods show churn. */
  podCreated: 'kube_pod_created',
  nodeStatusCondition: 'kube_node_status_condition',
} as const;

/** Traefik v2 ingress series. */
export const TRAEFIK = {
  requests: 'traefik_service_requests_total',
  durationBucket: 'traefik_service_request_duration_seconds_bucket',
  durationCount: 'traefik_service_request_duration_seconds_count',
  durationSum: 'traefik_service_request_duration_seconds_sum',
} as const;

/** Istio sidecar series. */
export const ISTIO = {
  requests: 'istio_requests_total',
  durationBucket: 'istio_request_duration_milliseconds_bucket',
  durationCount: 'istio_request_duration_milliseconds_count',
  durationSum: 'istio_request_duration_milliseconds_sum',
} as const;

/** Series Prometheus itself produces. */
export const PROMETHEUS = {
  up: 'up',
  alerts: 'ALERTS',
  alertsForState: 'ALERTS_FOR_STATE',
  scrapeDuration: 'scrape_duration_seconds',
} as const;

/** Series from exporters users already run, which dashboards and alerts may query. */
export const EXTERNAL = {
  nodeExporter: Object.values(NODE),
  kubeStateMetrics: Object.values(KSM),
  traefik: Object.values(TRAEFIK),
  istio: Object.values(ISTIO),
  prometheus: [...Object.values(PROMETHEUS), 'absent'],
} as const;
