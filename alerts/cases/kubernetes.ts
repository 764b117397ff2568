import { KSM } from '../../lib/catalog.ts';
import type { RuleContext } from '../rule.ts';
import { input, sampleNamespace, type AlertCase } from './case.ts';

export function kubernetesCases({ selectors: s }: RuleContext): AlertCase[] {
  const namespace = sampleNamespace(s);
  const ksm = { job: s.jobs.kubeStateMetrics, namespace, instance: '10.42.0.3:8080' };
  const hpa = { ...ksm, horizontalpodautoscaler: s.appDeployment };
  const otherHpa = { ...ksm, horizontalpodautoscaler: 'grafana' };
  const deployment = { ...ksm, deployment: s.appDeployment };
  const pod = { ...ksm, pod: `${s.appDeployment}-7d9f8b6c5d-x2x4q` };
  const node = { job: s.jobs.kubeStateMetrics, instance: ksm.instance, node: 'pi-worker-2', condition: 'Ready' };

  return [
    {
      alert: 'MyheroHpaMaxedOut',
      name: 'fires after 15 m at the maximum',
      series: [input(KSM.hpaCurrentReplicas, hpa, '4x20'), input(KSM.hpaMaxReplicas, hpa, '4x20'), input(KSM.hpaMinReplicas, hpa, '1x20')],
      evalTime: '16m',
      expect: [
        {
          labels: { ...hpa, severity: 'warning' },
          summary: `HPA ${namespace}/${hpa.horizontalpodautoscaler} is at its maximum`,
          description: `HPA ${namespace}/${hpa.horizontalpodautoscaler} has run at its maximum of 4 replicas for 15 minutes: the load needs more than it may scale to.`,
        },
      ],
    },
    {
      alert: 'MyheroHpaMaxedOut',
      name: "does not fire for a pinned HPA (min = max) nor for another workload's HPA",
      series: [
        input(KSM.hpaCurrentReplicas, hpa, '4x20'),
        input(KSM.hpaMaxReplicas, hpa, '4x20'),
        input(KSM.hpaMinReplicas, hpa, '4x20'),
        input(KSM.hpaCurrentReplicas, otherHpa, '3x20'),
        input(KSM.hpaMaxReplicas, otherHpa, '3x20'),
        input(KSM.hpaMinReplicas, otherHpa, '1x20'),
      ],
      evalTime: '16m',
      expect: [],
    },
    {
      alert: 'MyheroHpaReplicasMismatch',
      name: 'fires when desired replicas are not reached for 15 m',
      series: [input(KSM.hpaDesiredReplicas, hpa, '6x20'), input(KSM.hpaCurrentReplicas, hpa, '4x20')],
      evalTime: '16m',
      expect: [
        {
          labels: { ...hpa, severity: 'warning' },
          summary: `HPA ${namespace}/${hpa.horizontalpodautoscaler} has not reached its desired replicas`,
          description: `HPA ${namespace}/${hpa.horizontalpodautoscaler} has wanted 6 replicas for 15 minutes without getting them: new pods are Pending or failing.`,
        },
      ],
    },
    {
      alert: 'MyheroHpaReplicasMismatch',
      name: 'does not fire when the HPA catches up within 15 m',
      series: [input(KSM.hpaDesiredReplicas, hpa, '6x20'), input(KSM.hpaCurrentReplicas, hpa, '4x10 6x10')],
      evalTime: '16m',
      expect: [],
    },
    {
      alert: 'MyheroPodCrashLooping',
      name: 'fires after 15 m in CrashLoopBackOff',
      series: [input(KSM.containerWaitingReason, { ...pod, container: 'myhero-app', reason: 'CrashLoopBackOff' }, '1x20')],
      evalTime: '16m',
      expect: [
        {
          labels: { ...pod, container: 'myhero-app', reason: 'CrashLoopBackOff', severity: 'warning' },
          summary: `Pod ${namespace}/${pod.pod} is crash-looping`,
          description: `Container myhero-app of pod ${namespace}/${pod.pod} has been in CrashLoopBackOff for 15 minutes.`,
        },
      ],
    },
    {
      alert: 'MyheroPodCrashLooping',
      name: 'does not fire for a container that is only being created',
      series: [input(KSM.containerWaitingReason, { ...pod, container: 'myhero-app', reason: 'ContainerCreating' }, '1x20')],
      evalTime: '16m',
      expect: [],
    },
    {
      alert: 'MyheroPodNotReady',
      name: 'fires after 15 m not ready',
      series: [input(KSM.podStatusReady, { ...pod, condition: 'true' }, '0x20')],
      evalTime: '16m',
      expect: [
        {
          labels: { ...pod, condition: 'true', severity: 'warning' },
          summary: `Pod ${namespace}/${pod.pod} is not ready`,
          description: `Pod ${namespace}/${pod.pod} has failed its readiness probe, or not started, for 15 minutes: its Service sends it no traffic.`,
        },
      ],
    },
    {
      alert: 'MyheroPodNotReady',
      name: "does not fire when the pod turns ready within 15 m, nor for another workload's pod",
      series: [
        input(KSM.podStatusReady, { ...pod, condition: 'true' }, '0x10 1x10'),
        input(KSM.podStatusReady, { ...ksm, pod: 'k6-loadtest-1-abcde', condition: 'true' }, '0x20'),
      ],
      evalTime: '16m',
      expect: [],
    },
    {
      alert: 'MyheroDeploymentReplicasMismatch',
      name: 'fires after 15 m short of replicas',
      series: [input(KSM.deploymentSpecReplicas, deployment, '2x20'), input(KSM.deploymentAvailableReplicas, deployment, '1x20')],
      evalTime: '16m',
      expect: [
        {
          labels: { ...deployment, severity: 'warning' },
          summary: `Deployment ${namespace}/${deployment.deployment} lacks available replicas`,
          description: `Deployment ${namespace}/${deployment.deployment} has asked for 2 replicas but not had them all available for 15 minutes.`,
        },
      ],
    },
    {
      alert: 'MyheroDeploymentReplicasMismatch',
      name: 'does not fire when a rollout completes within 15 m',
      series: [input(KSM.deploymentSpecReplicas, deployment, '2x20'), input(KSM.deploymentAvailableReplicas, deployment, '1x5 2x15')],
      evalTime: '16m',
      expect: [],
    },
    {
      alert: 'MyheroNodeNotReady',
      name: 'fires after 5 m not Ready',
      series: [input(KSM.nodeStatusCondition, { ...node, status: 'true' }, '1 0x10'), input(KSM.nodeStatusCondition, { ...node, status: 'unknown' }, '0 1x10')],
      evalTime: '7m',
      expect: [
        {
          labels: { ...node, status: 'true', severity: 'warning' },
          summary: 'Node pi-worker-2 is not ready',
          description:
            'Node pi-worker-2 has not been Ready for 5 minutes: its pods are evicted and rescheduled, and a small Pi cluster has lost a large share of its capacity.',
        },
      ],
    },
    {
      alert: 'MyheroNodeNotReady',
      name: 'does not fire for a Ready node',
      series: [input(KSM.nodeStatusCondition, { ...node, status: 'true' }, '1x10'), input(KSM.nodeStatusCondition, { ...node, status: 'false' }, '0x10')],
      evalTime: '7m',
      expect: [],
    },
  ];
}
