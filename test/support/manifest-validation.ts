import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { stringify } from 'yaml';
import { KUBE_VERSION, run, type Manifest } from './deploy-tools.ts';

/**
 * Offline schema validation of rendered manifests. Built-in kinds: kubernetes-validate (PyPI) against the
 * Kubernetes JSON schemas it ships, in strict mode (an unknown field such as a misspelt `securityContext`
 * is an error). Prometheus Operator kinds: the validators of @kubernetes-models/prometheus-operator (npm),
 * generated from the operator's Go types (types, enums, patterns; they allow unknown fields). A kind
 * neither covers is itself a problem: nothing passes unvalidated.
 */
interface Validatable {
  validate(): void;
}
const CUSTOM_KINDS: Record<string, (manifest: Manifest) => Validatable> = {
  'monitoring.coreos.com/v1/ServiceMonitor': (m) => new ServiceMonitor(m as unknown as ConstructorParameters<typeof ServiceMonitor>[0]),
  'monitoring.coreos.com/v1/PrometheusRule': (m) => new PrometheusRule(m as unknown as ConstructorParameters<typeof PrometheusRule>[0]),
};

const isCustom = (manifest: Manifest): boolean => manifest.apiVersion.includes('.coreos.com/');

/** Every problem found, as `Kind/name: message` lines; empty when all manifests are valid. */
export async function validateManifests(manifests: readonly Manifest[], kubernetesValidate: string): Promise<string[]> {
  const problems: string[] = [];
  for (const manifest of manifests.filter(isCustom)) {
    const build = CUSTOM_KINDS[`${manifest.apiVersion}/${manifest.kind}`];
    if (build === undefined) {
      problems.push(`${manifest.kind}/${manifest.metadata.name}: no schema for ${manifest.apiVersion} ${manifest.kind}`);
      continue;
    }
    try {
      build(manifest).validate();
    } catch (error) {
      problems.push(`${manifest.kind}/${manifest.metadata.name}: ${(error as Error).message}`);
    }
  }
  const builtIn = manifests.filter((m) => !isCustom(m));
  if (builtIn.length === 0) return problems;
  const dir = await mkdtemp(join(tmpdir(), 'onedrive-manifests-'));
  try {
    const file = join(dir, 'manifests.yaml');
    await writeFile(file, builtIn.map((m) => stringify(m)).join('---\n'));
    const result = await run(kubernetesValidate, ['--strict', '--quiet', '--kubernetes-version', KUBE_VERSION, file]);
    // --quiet prints only warnings (e.g. "Couldn't find schema") and failures: each one is a problem.
    const lines = `${result.stdout}\n${result.stderr}`.split('\n').filter((line) => /^(WARN|ERROR)\b/.test(line));
    problems.push(...lines.map((line) => line.replace(file, 'manifest')));
    if (result.code !== 0 && lines.length === 0) problems.push(`kubernetes-validate exited ${result.code}: ${result.stderr}`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return problems;
}
