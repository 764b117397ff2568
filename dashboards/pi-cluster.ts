import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import { NODE, PROMETHEUS, RPI } from '../lib/catalog.ts';
import { PI_THERMAL } from '../lib/defaults.ts';
import { nodeExporterMatchers, type MonitoringConfig, type Selectors } from '../lib/monitoring.ts';
import { JOB } from './exprs.ts';
import { runbook } from './links.ts';
import { rate, sel, type Matchers, type Metric } from './promql.ts';
import {
  flagMappings,
  gauge,
  jobVariable,
  newDashboard,
  type DashboardHead,
  q,
  queryVariable,
  row,
  stat,
  stateTimeline,
  steps,
  thermalSteps,
  timeseries,
  units,
  valueMappings,
} from './toolkit.ts';

// Pi cluster: heat and throttling from the ARM exporter next to node-exporter's
// USE signals, one row per concern, so a hot board can be read against its load.
//
// One `$node` choice selects both exporters of a board although they label it
// differently. The Pi exporter's `instance` is the node name (its ServiceMonitor
// and static config set it so), possibly with a port. node-exporter's `instance`
// is the node name under kube-prometheus but `IP:9100` under
// kube-prometheus-stack's defaults, so its series are selected and labelled
// through the `nodename` label of its uname info series instead (the host name,
// which k3s uses as the node name), as node-mixin does: that works with either
// relabeling.

/** Pi exporter series of the selected nodes: `instance` is the node name, maybe with a port. */
const PI_NODE_MATCHER = { instance: { re: '($node)(:[0-9]+)?' } } as const satisfies Matchers;
/** `node` = host part of the Pi exporter's `instance`, for legends. */
const byNode = (expr: string) => `label_replace(${expr}, "node", "$1", "instance", "([^:]+).*")`;

const rpi = (metric: Metric, matchers: Matchers = {}) => sel(metric, { ...JOB, ...PI_NODE_MATCHER, ...matchers });

/**
 * node-exporter series (one or more per `instance`) of the selected nodes, with
 * the node's name added as `nodename`, whatever `instance` holds.
 */
const onNodes = (s: Selectors, expr: string) =>
  `(${expr}) * on (instance) group_left (nodename) ${sel(NODE.unameInfo, { ...nodeExporterMatchers(s), nodename: { re: '$node' } })}`;

/**
 * `$node`'s values: the Pi exporter's nodes and node-exporter's `nodename`s,
 * seen at any time in the range (so amd64 nodes, and a Pi whose exporter has
 * been down for a while, can still be picked). One query returns both, so
 * `query_result` with a regex picking the `node` label out of each result.
 */
const nodeVariable = (s: Selectors) =>
  queryVariable({
    name: 'node',
    label: 'Node',
    description: `Cluster node: the Pi exporter's node name and node-exporter's nodename (${NODE.unameInfo}), seen in the time range.`,
    query: `query_result(group by (node) (${byNode(`last_over_time(${sel(RPI.cpuTemperature, JOB)}[$__range])`)} or label_replace(last_over_time(${sel(NODE.unameInfo, nodeExporterMatchers(s))}[$__range]), "node", "$1", "nodename", "(.+)")))`,
    regex: '/node="([^"]+)"/',
  });

/** Devices that are not the board's own network or storage. */
const REAL_NIC: Matchers = { device: { notRe: 'lo|veth.*|cni.*|flannel.*|docker.*|br-.*' } };
const REAL_DISK: Matchers = { device: { re: 'mmcblk[0-9]+|sd[a-z]+|nvme[0-9]+n[0-9]+' } };
const ROOT_FS: Matchers = { mountpoint: '/', fstype: { notRe: 'tmpfs|overlay|squashfs' } };
const IDLE: Matchers = { mode: 'idle' };

const utilisationSteps = () => steps('green', [0.8, 'orange'], [0.9, 'red']);

export function piClusterDashboard(opts: MonitoringConfig, head: DashboardHead): dashboard.DashboardBuilder {
  // node-exporter by its configured job: a second node-exporter job on the same instance would make `on (instance)` fail.
  const node = (metric: Metric, matchers: Matchers = {}) => sel(metric, { ...nodeExporterMatchers(opts.selectors), ...matchers });
  const joined = (expr: string) => onNodes(opts.selectors, expr);
  const b = newDashboard(head, {
    description:
      'Raspberry Pi nodes: CPU/GPU temperature against the 60/70/80 °C bands, throttling and under-voltage, CPU frequency and thermal zones from the ARM exporter, beside node-exporter CPU, memory, disk, network and load.',
    tags: ['raspberry-pi', 'hardware'],
    variables: [jobVariable(RPI.cpuTemperature, 'the ARM temperature exporter'), nodeVariable(opts.selectors)],
  });

  b.withRow(row('Temperature'));
  b.withPanel(
    timeseries({
      title: 'CPU temperature per node',
      description: `SoC temperature from thermal_zone0 (${RPI.cpuTemperature}). Bands: soft limit ${PI_THERMAL.softLimit} °C (Pi 3B+ starts slowing), ${PI_THERMAL.warning} °C warning, ${PI_THERMAL.throttle} °C the firmware throttles, ${PI_THERMAL.hardLimit} °C hard limit.`,
      unit: units.Celsius,
      queries: [q(byNode(`max by (instance) (${rpi(RPI.cpuTemperature)})`), '{{node}}')],
      thresholds: thermalSteps(),
      thresholdStyle: 'bands',
      min: 30,
      max: PI_THERMAL.hardLimit + 5,
      width: 16,
      legendCalcs: ['lastNotNull', 'max'],
      links: [runbook(opts, 'PiCpuTemperatureHigh'), runbook(opts, 'PiCpuTemperatureCritical')],
    }),
  );
  b.withPanel(
    gauge({
      title: 'Hottest node now',
      description: 'The highest CPU temperature among the selected nodes, coloured by the Pi thermal bands.',
      unit: units.Celsius,
      queries: [q(`max(${rpi(RPI.cpuTemperature)})`, 'hottest', true)],
      thresholds: thermalSteps(),
      min: 30,
      max: PI_THERMAL.hardLimit + 5,
      width: 8,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'GPU temperature per node',
      description: `VideoCore temperature from \`vcgencmd measure_temp\` (${RPI.gpuTemperature}); close to the CPU's on the same die.`,
      unit: units.Celsius,
      queries: [q(byNode(`max by (instance) (${rpi(RPI.gpuTemperature)})`), '{{node}}')],
      thresholds: thermalSteps(),
      thresholdStyle: 'bands',
      min: 30,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Thermal zones',
      description: `Every /sys/class/thermal zone: the ARM exporter's ${RPI.thermalZoneTemperature} and, where node-exporter runs, its ${NODE.thermalZoneTemp} for the same files.`,
      unit: units.Celsius,
      queries: [
        q(byNode(rpi(RPI.thermalZoneTemperature)), '{{node}} {{type}} (zone {{zone}})'),
        q(joined(node(NODE.thermalZoneTemp)), '{{nodename}} {{type}} (node-exporter)'),
      ],
      thresholds: thermalSteps(),
      thresholdStyle: 'lines',
    }),
  );

  b.withRow(row('Throttling and power'));
  b.withPanel(
    stateTimeline({
      title: 'Throttling and under-voltage now',
      description: `Firmware flags from \`vcgencmd get_throttled\` (${RPI.throttled}, period="now"): under_voltage, arm_frequency_capped, throttled, soft_temp_limit. Red while active.`,
      unit: units.NoUnit,
      queries: [q(byNode(`max by (instance, reason) (${rpi(RPI.throttled, { period: 'now' })})`), '{{node}} {{reason}}')],
      mappings: flagMappings('OK', 'ACTIVE'),
      thresholds: steps('green', [1, 'red']),
      width: 16,
      links: [runbook(opts, 'PiThrottled'), runbook(opts, 'PiUnderVoltage')],
    }),
  );
  b.withPanel(
    stat({
      title: 'Since boot',
      description: `The sticky bits of \`vcgencmd get_throttled\` (${RPI.throttled}, period="since_boot"): any under-voltage or throttling since the board booted. Under-voltage means a weak power supply or cable.`,
      unit: units.NoUnit,
      queries: [q(byNode(`max by (instance, reason) (${rpi(RPI.throttled, { period: 'since_boot' })})`), '{{node}} {{reason}}', true)],
      mappings: flagMappings('never', 'occurred'),
      thresholds: steps('green', [1, 'red']),
      background: true,
      text: 'value_and_name',
      width: 8,
      links: [runbook(opts, 'PiUnderVoltageOccurred')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'CPU frequency',
      description: `Mean current ARM clock per node (${RPI.cpuFrequency}, scaling_cur_freq). A drop while hot means throttling; a low flat line at idle is the ondemand governor.`,
      unit: units.Hertz,
      queries: [q(byNode(`avg by (instance) (${rpi(RPI.cpuFrequency)})`), '{{node}}')],
      min: 0,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Core voltage',
      description: `SoC core voltage from \`vcgencmd measure_volts core\` (${RPI.coreVoltage}).`,
      unit: units.Volt,
      queries: [q(byNode(`max by (instance) (${rpi(RPI.coreVoltage)})`), '{{node}}')],
      decimals: 3,
    }),
  );

  b.withRow(row('Node USE (node-exporter)'));
  b.withPanel(
    timeseries({
      title: 'CPU utilisation',
      description: 'Share of CPU time not idle, all cores of a node averaged (node-exporter). Read it against the temperature above.',
      unit: units.PercentUnit,
      queries: [q(joined(`1 - avg by (instance) (${rate(node(NODE.cpuSeconds, IDLE))})`), '{{nodename}}')],
      thresholds: utilisationSteps(),
      thresholdStyle: 'lines',
      min: 0,
      max: 1,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Load per core',
      description: 'Run-queue length (1 and 15 minute load averages) divided by the number of cores: above 1 the node is saturated.',
      unit: units.Short,
      queries: [
        q(joined(`${node(NODE.load1)} / on (instance) count by (instance) (${node(NODE.cpuSeconds, IDLE)})`), '{{nodename}} 1m'),
        q(joined(`${node(NODE.load15)} / on (instance) count by (instance) (${node(NODE.cpuSeconds, IDLE)})`), '{{nodename}} 15m'),
      ],
      thresholds: steps('green', [1, 'red']),
      thresholdStyle: 'lines',
      min: 0,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Memory utilisation',
      description: 'Share of memory not available to new work (1 − MemAvailable / MemTotal). A 1 GB Pi is tight above 90 %.',
      unit: units.PercentUnit,
      queries: [q(joined(`1 - ${node(NODE.memAvailable)} / ${node(NODE.memTotal)}`), '{{nodename}}')],
      thresholds: utilisationSteps(),
      thresholdStyle: 'lines',
      min: 0,
      max: 1,
      width: 8,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Root filesystem used',
      description: 'Share of the root filesystem (SD card) in use. votes.txt of myhero-data lives on a node disk.',
      unit: units.PercentUnit,
      queries: [q(joined(`1 - ${node(NODE.filesystemAvail, ROOT_FS)} / ${node(NODE.filesystemSize, ROOT_FS)}`), '{{nodename}}')],
      thresholds: utilisationSteps(),
      thresholdStyle: 'lines',
      min: 0,
      max: 1,
      width: 8,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Disk busy',
      description: 'Share of time the SD card or disk had I/O in flight (rate of node_disk_io_time). Near 100 % the data tier waits on storage.',
      unit: units.PercentUnit,
      queries: [q(joined(`max by (instance) (${rate(node(NODE.diskIoTime, REAL_DISK))})`), '{{nodename}}')],
      thresholds: utilisationSteps(),
      thresholdStyle: 'lines',
      min: 0,
      max: 1,
      width: 8,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Network traffic',
      description: 'Bytes per second received and transmitted per node on its physical interfaces (loopback, veth, CNI and bridge devices left out).',
      unit: units.BytesPerSecondSI,
      queries: [
        q(joined(`sum by (instance) (${rate(node(NODE.networkReceive, REAL_NIC))})`), '{{nodename}} in'),
        q(joined(`sum by (instance) (${rate(node(NODE.networkTransmit, REAL_NIC))})`), '{{nodename}} out'),
      ],
      width: 24,
    }),
  );

  b.withRow(row('Exporter health'));
  b.withPanel(
    stateTimeline({
      title: 'Exporter targets up',
      description: 'Whether Prometheus could scrape each ARM exporter target (up), per job and node. Down means no temperature data and no temperature alerts for that node.',
      unit: units.NoUnit,
      queries: [q(byNode(`max by (job, instance) (${sel(PROMETHEUS.up, { ...JOB, ...PI_NODE_MATCHER })})`), '{{node}} ({{job}})')],
      mappings: valueMappings({ 0: ['DOWN', 'red'], 1: ['UP', 'green'] }),
      thresholds: steps('red', [1, 'green']),
      links: [runbook(opts, 'PiExporterDown'), runbook(opts, 'PiExporterAbsent')],
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Collector errors',
      description: `Scrapes per second in which a collector could not read a source (${RPI.collectorErrors}); its series were left out of that scrape. vcgencmd errors on a non-Pi are expected.`,
      unit: units.CountsPerSecond,
      queries: [q(byNode(`sum by (instance, collector) (${rate(rpi(RPI.collectorErrors))})`), '{{node}} {{collector}}')],
      min: 0,
      width: 6,
    }),
  );
  b.withPanel(
    timeseries({
      title: 'Collector read time',
      description: `Time each collector took to read its sources in the last scrape (${RPI.collectorDuration}); vcgencmd is cached between scrapes.`,
      unit: units.Seconds,
      queries: [q(byNode(`max by (instance, collector) (${rpi(RPI.collectorDuration)})`), '{{node}} {{collector}}')],
      min: 0,
      width: 6,
    }),
  );

  return b;
}
