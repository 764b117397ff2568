import { describeError } from '../lib/errors.ts';
import type { Kube } from '../lib/kube.ts';
import { ISTIO_GROUP, RUN_LABEL, leftoverOf, restorePatch, virtualServices } from './mesh.ts';

// `chaos cleanup`: what interrupted runs left behind (a process killed before its
// rollbacks ran), found by the run label the actions put on everything they create
// or change: VirtualServices an http-fault created are deleted, those it changed get
// back the spec saved in their annotation.

export interface Leftover {
  /** `VirtualService default/myhero-app` */
  object: string;
  run: string;
  /** What was (or, in a dry run, would be) done. */
  action: 'deleted' | 'restored' | 'would delete' | 'would restore';
  error?: string;
}

export async function cleanupLeftovers(kube: Kube, namespace: string, opts: { dryRun: boolean; signal?: AbortSignal }): Promise<Leftover[] | 'no istio'> {
  const istio = await kube.apiGroup(ISTIO_GROUP);
  if (!istio) return 'no istio';
  const resource = virtualServices(istio.preferred);
  const out: Leftover[] = [];
  for (const vs of await kube.listCustom(resource, namespace, RUN_LABEL)) {
    const left = leftoverOf(vs);
    if (!left) continue;
    const name = vs.metadata.name;
    const entry: Leftover = {
      object: `VirtualService ${namespace}/${name}`,
      run: vs.metadata.labels![RUN_LABEL]!,
      action: left.kind === 'created' ? (opts.dryRun ? 'would delete' : 'deleted') : opts.dryRun ? 'would restore' : 'restored',
    };
    out.push(entry);
    if (opts.dryRun) continue;
    try {
      if (left.kind === 'created') await kube.deleteCustom(resource, namespace, name, opts.signal);
      else await kube.patchCustom(resource, namespace, name, restorePatch(left.original, vs, vs.metadata.resourceVersion), opts.signal);
    } catch (err) {
      entry.error = describeError(err);
    }
  }
  return out;
}
