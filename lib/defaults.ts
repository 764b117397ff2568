// The one place that owns myhero's ports, keys, env var names and MQTT topics,
// as the brief states them. Everything else imports from here.

/** Workstation (docker-compose) ports of the myhero services. */
export const PORTS = {
  data: 15000,
  app: 15001,
  mqtt: 1883,
  ui: 15080,
  spark: 15003,
  /** Container port every myhero HTTP service listens on inside Kubernetes. */
  container: 5000,
  /** carlosedp/arm_exporter's port, kept by our exporter. */
  exporter: 9243,
  /** Where a running load test exposes its live metrics for Prometheus. */
  loadtestMetrics: 9465,
  /** Lab Prometheus/Alertmanager: off the standard ports so a user's own stack can keep them. */
  labPrometheus: 19090,
  labAlertmanager: 19093,
  /** The twin's ernst has no API port in the original; this one only serves its /metrics. */
  ernstMetrics: 15009,
} as const;

export const LOOPBACK = '127.0.0.1';

/** Sample keys: workstation values; the cluster manifests use SecureData/SecureApp. */
export const KEYS = {
  dataDev: 'DevData',
  appDev: 'DevApp',
  dataCluster: 'SecureData',
  appCluster: 'SecureApp',
} as const;

/** HTTP header carrying the shared key. */
export const KEY_HEADER = 'key';

/** The original 12-factor env var names of the myhero services. */
export const ENV = {
  appMode: 'myhero_app_mode',
  dataServer: 'myhero_data_server',
  dataSrv: 'myhero_data_srv',
  dataKey: 'myhero_data_key',
  appKey: 'myhero_app_key',
  mqttHost: 'myhero_mqtt_host',
  mqttPort: 'myhero_mqtt_port',
} as const;

export const APP_MODES = ['direct', 'queue'] as const;
export type AppMode = (typeof APP_MODES)[number];

/**
 * How the lab twin behaves on the wire: `hardened` (default: keep-alive, JSON errors, QoS 1 votes
 * that survive a consumer restart) or `original` (as the original Flask services: Connection: close,
 * HTML error pages, QoS 0 retained votes with one broker connection each).
 */
export const TWIN_FLAVOURS = ['hardened', 'original'] as const;
export type TwinFlavour = (typeof TWIN_FLAVOURS)[number];

/** MQTT topics: the app publishes to `${VOTE_TOPIC_PREFIX}/<host>-<digit>`, ernst subscribes to the wildcard. */
export const VOTE_TOPIC_PREFIX = 'MyHero-Votes';
export const VOTE_TOPIC_FILTER = `${VOTE_TOPIC_PREFIX}/#`;

/** Response bodies of the original services, byte for byte. */
export const BODIES = {
  health: 'Service up.',
  missingKey: { Error: 'Method requires authorization key.' },
  invalidKey: { Error: 'Invalid Key Provided.' },
  voteSubmitted: { result: 'vote submitted' },
  voteFailed: { result: 'vote submission failed' },
} as const;

/** The app caches /options for this long, as the original does. */
export const OPTIONS_CACHE_SECONDS = 300;

/** The hero options the original data service ships with. */
export const DEFAULT_HEROES = [
  'Captain Cloud',
  'Spider-Man',
  'Superman',
  'Batman',
  'Wonder Woman',
  'Black Widow',
  'Deadpool',
  'Hulk',
  'Iron Man',
  'Thor',
] as const;

/** Kubernetes labels of the myhero manifests. */
export const K8S = {
  appLabel: { app: 'myhero' },
  tiers: ['app', 'data', 'mosca', 'ernst', 'ui', 'spark'] as const,
  appDeployment: 'myhero-app',
  defaultNamespace: 'default',
} as const;

/** Raspberry Pi thermal facts (°C): soft limit on a 3B+, firmware throttling, hard limit. */
export const PI_THERMAL = { softLimit: 60, warning: 70, throttle: 80, hardLimit: 85 } as const;

/** Tag of the Grafana annotations that mark chaos actions; the game-day dashboard overlays annotations with it. */
export const CHAOS_ANNOTATION_TAG = 'chaos';
