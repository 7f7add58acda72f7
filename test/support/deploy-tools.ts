import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

/**
 * The deployment checks' tools (helm, hadolint, kubernetes-validate) are real binaries installed by the
 * project's own scripts under scripts/tools/ — idempotent, so the first test on a fresh machine builds
 * or installs them and every later call only prints the path.
 */
export const ROOT = resolve(import.meta.dirname, '../..');
export const CHART_DIR = join(ROOT, 'helm/onedrive-connector');
/** The Kubernetes version the chart is rendered and validated for (the chart's kubeVersion allows ≥ 1.25). */
export const KUBE_VERSION = '1.33.0';
/** helm's go build takes minutes on a loaded 2-core machine the first time. */
export const TOOL_INSTALL_TIMEOUT_MS = 20 * 60_000;

const execFileAsync = promisify(execFile);

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; never throws on a non-zero exit (tests assert on the code and output). */
export async function run(command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      cwd: options.cwd ?? ROOT,
      env: options.env ?? process.env,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string; stderr?: string; message: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '', stderr: failed.stderr ?? failed.message };
  }
}

/** `scripts/tools/<name>.sh`: installs the tool when missing and answers its path. */
export async function installTool(name: 'helm' | 'hadolint' | 'kubernetes-validate'): Promise<string> {
  const result = await run('bash', [join(ROOT, 'scripts/tools', `${name}.sh`)], { timeoutMs: TOOL_INSTALL_TIMEOUT_MS });
  if (result.code !== 0) throw new Error(`scripts/tools/${name}.sh failed (${result.code}):\n${result.stderr}`);
  const path = result.stdout.trim().split('\n').at(-1) ?? '';
  if (path === '') throw new Error(`scripts/tools/${name}.sh printed no path`);
  return path;
}

export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** Splits `helm template` output into its documents (empty ones dropped); YAML errors fail loudly. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((document) => {
      if (document.errors.length > 0) throw new Error(`rendered YAML does not parse: ${document.errors.map((e) => e.message).join('; ')}`);
      return document.toJS() as Manifest | null;
    })
    .filter((manifest): manifest is Manifest => manifest !== null);
}

export function findManifest(manifests: readonly Manifest[], kind: string, nameSuffix = ''): Manifest {
  const found = manifests.filter((m) => m.kind === kind && m.metadata.name.endsWith(nameSuffix));
  if (found.length !== 1) throw new Error(`expected one ${kind}${nameSuffix ? ` named *${nameSuffix}` : ''}, found ${found.length}`);
  return found[0]!;
}

/** A throw-away copy of the chart, so a test can add files (e.g. a rules file) without touching the tree. */
export async function copyChart(from = CHART_DIR): Promise<{ dir: string; remove(): Promise<void> }> {
  const base = await mkdtemp(join(tmpdir(), 'onedrive-chart-'));
  const dir = join(base, 'onedrive-connector');
  await cp(from, dir, { recursive: true });
  return { dir, remove: () => rm(base, { recursive: true, force: true }) };
}
