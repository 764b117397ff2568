import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isKustomization, validateObject } from './fixtures/k8s-schemas.ts';
import { kustomizeBuild } from './fixtures/kube-apiserver/index.ts';

// Every Kubernetes manifest the repository ships validates against its upstream schema.
// The list comes from git, so a new manifest is checked without editing this file.
// (Generated manifests are validated by the tests of the command that generates them.)

const root = new URL('..', import.meta.url).pathname;
const manifests = execFileSync('git', ['ls-files', '*.yaml'], { cwd: root, encoding: 'utf8' })
  .split('\n')
  .filter((f) => /^(chaos\/(manifests|rbac)|exporters\/deploy)\//.test(f));

describe('shipped manifests against upstream schemas', () => {
  it('finds the manifests', () => expect(manifests.length).toBeGreaterThan(10));

  it.each(manifests)('%s', async (file) => {
    for (const doc of parseAllDocuments(readFileSync(`${root}${file}`, 'utf8'))) {
      const obj = doc.toJS() as unknown;
      // Kustomize patches are partial objects by design; they are checked through the overlay they build.
      if (!obj || isKustomization(obj) || file.includes('/patches/')) continue;
      await validateObject(obj);
    }
  });

  // What the patches make of the base: the overlay as `kubectl apply -k` would send it.
  it('the hardening overlay as it builds (base and patches merged)', async () => {
    const built = kustomizeBuild(`${root}chaos/manifests`);
    expect(built.filter((o) => o.kind === 'Deployment').length).toBeGreaterThan(3);
    for (const obj of built) await validateObject(obj);
  });

  it('rejects what an API server rejects (negative control)', async () => {
    const deployment = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'x' }, spec: { replicas: 1.5, selector: {}, template: {} } };
    await expect(validateObject(deployment)).rejects.toThrow(/replicas must be integer/);
    const env = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', env: [{ name: 'A', value: 1 }] }] } };
    await expect(validateObject(env)).rejects.toThrow(/value must be string/);
    await expect(validateObject({ apiVersion: 'example.com/v1', kind: 'Thing' })).rejects.toThrow(/no upstream schema/);
  });
});
