// The Helm chart, checked with the real tools: `helm lint` and `helm template` (defaults and every
// feature on), the rendered manifests validated offline against the Kubernetes (and Prometheus Operator)
// schemas, and the rendered config accepted by the connector's own `config check`.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse as parseYaml, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOUDS, CLOUD_NAMES } from '../../../src/config/clouds.ts';
import { configSchema } from '../../../src/config/schema.ts';
import {
  CHART_DIR,
  copyChart,
  findManifest,
  installTool,
  KUBE_VERSION,
  parseManifests,
  ROOT,
  run,
  TOOL_INSTALL_TIMEOUT_MS,
  type Manifest,
  type RunResult,
} from '../../support/deploy-tools.ts';
import { validateManifests } from '../../support/manifest-validation.ts';

const ALL_FEATURES = join(CHART_DIR, 'ci/all-features-values.yaml');
const RULES_FILE = 'files/prometheus-rules.yaml';
const DASHBOARD_FILE = 'files/grafana-dashboard.json';

/**
 * The chart writes config.admin when adminApi.enabled; those keys arrive with the connection-lifecycle
 * work (issue 8). Where the connector does not know them yet, the every-feature config check renders with
 * the admin API off; everything else about the admin API is checked either way.
 */
const CONNECTOR_HAS_ADMIN_API = 'admin' in configSchema.shape;

let helm = '';
let kubernetesValidate = '';
/** The chart plus, when the rules/dashboard files are not (yet) in the tree, small stand-ins for them. */
let featureChart: { dir: string; remove(): Promise<void> };

beforeAll(async () => {
  [helm, kubernetesValidate] = await Promise.all([installTool('helm'), installTool('kubernetes-validate')]);
  featureChart = await copyChart();
  const standIns: Record<string, string> = {
    [RULES_FILE]: stringify({ groups: [{ name: 'stand-in', rules: [{ alert: 'StandIn', expr: 'up == 0', for: '5m', labels: { severity: 'warning' }, annotations: { summary: 'stand-in' } }] }] }),
    [DASHBOARD_FILE]: JSON.stringify({ title: 'stand-in', panels: [] }),
  };
  for (const [file, text] of Object.entries(standIns)) {
    const exists = await readFile(join(CHART_DIR, file), 'utf8').then(() => true, () => false);
    if (!exists) {
      await mkdir(dirname(join(featureChart.dir, file)), { recursive: true });
      await writeFile(join(featureChart.dir, file), text);
    }
  }
}, TOOL_INSTALL_TIMEOUT_MS);

afterAll(async () => {
  await featureChart?.remove();
});

function template(chart: string, args: readonly string[] = []): Promise<RunResult> {
  return run(helm, ['template', 'odc', chart, '--namespace', 'security', '--kube-version', KUBE_VERSION, ...args]);
}

async function render(chart: string, args: readonly string[] = []): Promise<Manifest[]> {
  const result = await template(chart, args);
  expect(result.stderr, 'helm template stderr').toBe('');
  expect(result.code).toBe(0);
  return parseManifests(result.stdout);
}

interface Container {
  name: string;
  args: string[];
  ports: { name: string; containerPort: number }[];
  securityContext: Record<string, unknown>;
  volumeMounts: { name: string; mountPath: string }[];
  startupProbe: { httpGet: { path: string; port: string } };
  livenessProbe: { httpGet: { path: string; port: string } };
  readinessProbe: { httpGet: { path: string; port: string } };
}
interface PodSpec {
  containers: Container[];
  volumes: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] }; configMap?: { name: string }; emptyDir?: Record<string, unknown> }[];
  securityContext: Record<string, unknown>;
  automountServiceAccountToken: boolean;
  terminationGracePeriodSeconds: number;
}
const podSpec = (manifests: Manifest[]): PodSpec =>
  (findManifest(manifests, 'Deployment') as unknown as { spec: { template: { spec: PodSpec } } }).spec.template.spec;
const renderedConfig = (manifests: Manifest[]): Record<string, unknown> =>
  parseYaml((findManifest(manifests, 'ConfigMap', '-connector') as unknown as { data: Record<string, string> }).data['config.yaml']!) as Record<string, unknown>;

/**
 * Runs `onedrive-connector config check` on the rendered config as the pod would see it: every secret
 * volume's projected files exist under a scratch root, and each absolute path in the config inside a
 * mount is moved under that root. A path the config names but no mount provides stays missing and fails.
 */
async function configCheck(manifests: Manifest[]): Promise<RunResult> {
  const pod = podSpec(manifests);
  const container = pod.containers[0]!;
  const root = await mkdtemp(join(tmpdir(), 'onedrive-pod-'));
  try {
    const mounts = container.volumeMounts.map((mount) => ({ ...mount, volume: pod.volumes.find((v) => v.name === mount.name)! }));
    for (const { mountPath, volume } of mounts) {
      await mkdir(join(root, mountPath), { recursive: true });
      for (const item of volume.secret?.items ?? []) await writeFile(join(root, mountPath, item.path), `test content of ${volume.secret!.secretName}/${item.key}\n`);
    }
    const relocate = (value: unknown): unknown => {
      // A mount point itself (the spool emptyDir) moves too: `config check` probes that it is writable.
      if (typeof value === 'string') return mounts.some((m) => value === m.mountPath || value.startsWith(`${m.mountPath}/`)) ? join(root, value) : value;
      if (Array.isArray(value)) return value.map(relocate);
      if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relocate(v)]));
      return value;
    };
    // A Secret mounted whole (no items) provides whatever keys it has: the files the config names in it.
    const wholeSecretMounts = mounts.filter((m) => m.volume.secret !== undefined && m.volume.secret.items === undefined).map((m) => `${m.mountPath}/`);
    const named = (value: unknown): string[] =>
      typeof value === 'string' ? [value] : value !== null && typeof value === 'object' ? Object.values(value).flatMap(named) : [];
    for (const path of named(renderedConfig(manifests)).filter((p) => wholeSecretMounts.some((m) => p.startsWith(m)))) {
      await writeFile(join(root, path), `test content of ${path}\n`);
    }
    const configPath = container.args[container.args.indexOf('--config') + 1]!;
    await writeFile(join(root, configPath), stringify(relocate(renderedConfig(manifests))));
    return await run(process.execPath, [join(ROOT, 'bin/onedrive-connector.js'), 'config', 'check', join(root, configPath)]);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

describe.each([
  { name: 'defaults', chart: () => CHART_DIR, args: [] as string[], configArgs: [] as string[] },
  {
    name: 'all features',
    chart: () => featureChart.dir,
    args: ['-f', ALL_FEATURES],
    configArgs: CONNECTOR_HAS_ADMIN_API ? [] : ['--set', 'adminApi.enabled=false'],
  },
])('the chart with $name', ({ chart, args, configArgs }) => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render(chart(), args);
  });

  it('passes helm lint --strict', async () => {
    const result = await run(helm, ['lint', '--strict', chart(), '--kube-version', KUBE_VERSION, ...args]);
    expect(result.stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
    expect(result.stdout).not.toMatch(/\[(WARNING|ERROR)\]/);
    expect(result.code).toBe(0);
  });

  it('renders manifests valid against the Kubernetes and Prometheus Operator schemas', async () => {
    expect(await validateManifests(manifests, kubernetesValidate)).toEqual([]);
  });

  it('renders a config the connector accepts (`config check`, secrets at their mounted paths)', async () => {
    const result = await configCheck(configArgs.length === 0 ? manifests : await render(chart(), [...args, ...configArgs]));
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/is valid: \d+ tenant\(s\)/);
    expect(result.code).toBe(0);
  });

  it('hardens the pod: non-root, read-only root, no capabilities, seccomp, no service-account token', () => {
    const pod = podSpec(manifests);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.containers[0]!.securityContext).toMatchObject({
      runAsNonRoot: true,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(findManifest(manifests, 'ServiceAccount').automountServiceAccountToken).toBe(false);
  });

  it('puts the spool directory and TMPDIR on emptyDirs (the only writable places)', () => {
    const pod = podSpec(manifests);
    const container = pod.containers[0]!;
    const writable = container.volumeMounts.filter((m) => pod.volumes.find((v) => v.name === m.name)?.emptyDir !== undefined).map((m) => m.mountPath);
    const connector = renderedConfig(manifests).connector as { spoolDirectory: string };
    expect(writable.sort()).toEqual(['/tmp', connector.spoolDirectory].sort());
  });

  it('probes the metrics port: /startupz, /livez, /readyz', () => {
    const container = podSpec(manifests).containers[0]!;
    const metricsPort = (renderedConfig(manifests).metrics as { port: number }).port;
    expect(container.ports).toContainEqual(expect.objectContaining({ name: 'metrics', containerPort: metricsPort }));
    expect([container.startupProbe, container.livenessProbe, container.readinessProbe].map((p) => p.httpGet)).toEqual([
      { path: '/startupz', port: 'metrics' },
      { path: '/livez', port: 'metrics' },
      { path: '/readyz', port: 'metrics' },
    ]);
  });

  it('gives the pod longer to stop than the shutdown deadline plus the transaction timeout', () => {
    const config = renderedConfig(manifests) as { connector: { shutdownTimeoutSeconds?: number }; kafka: { transactionTimeoutSeconds?: number } };
    const deadlines = (config.connector.shutdownTimeoutSeconds ?? 30) + (config.kafka.transactionTimeoutSeconds ?? 60);
    expect(podSpec(manifests).terminationGracePeriodSeconds).toBeGreaterThan(deadlines);
  });

  it('rolls out by stopping the old pod before starting the new one (no two owners of a shard)', () => {
    const deployment = findManifest(manifests, 'Deployment') as unknown as { spec: { strategy: unknown } };
    expect(deployment.spec.strategy).toEqual({ type: 'RollingUpdate', rollingUpdate: { maxSurge: 0, maxUnavailable: 1 } });
  });

  it('opens egress only to DNS, the brokers’ ports and HTTPS', () => {
    const policy = findManifest(manifests, 'NetworkPolicy') as unknown as { spec: { egress: { ports: { port: number }[] }[] } };
    const brokers = (renderedConfig(manifests).kafka as { brokers: string[] }).brokers;
    const brokerPorts = [...new Set(brokers.map((b) => Number(b.split(':').at(-1))))];
    const egressPorts = policy.spec.egress.map((rule) => rule.ports.map((p) => p.port));
    expect(egressPorts[0]).toEqual([53, 53]);
    expect(egressPorts[1]).toEqual(expect.arrayContaining(brokerPorts));
    expect(egressPorts[2]).toEqual([443]);
  });
});

describe('the chart with every feature on', () => {
  let manifests: Manifest[];
  beforeAll(async () => {
    manifests = await render(featureChart.dir, ['-f', ALL_FEATURES]);
  });

  it('wraps the rules file in a PrometheusRule and the dashboard in a sidecar-labelled ConfigMap', async () => {
    const rules = parseYaml(await readFile(join(featureChart.dir, RULES_FILE), 'utf8')) as { groups: unknown[] };
    expect((findManifest(manifests, 'PrometheusRule') as unknown as { spec: { groups: unknown[] } }).spec.groups).toEqual(rules.groups);
    const dashboard = findManifest(manifests, 'ConfigMap', '-dashboard') as unknown as { metadata: { labels: Record<string, string> }; data: Record<string, string> };
    expect(dashboard.metadata.labels.grafana_dashboard).toBe('1');
    expect(JSON.parse(dashboard.data['onedrive-connector.json']!)).toEqual(JSON.parse(await readFile(join(featureChart.dir, DASHBOARD_FILE), 'utf8')));
  });

  it('scrapes the metrics port through a ServiceMonitor, not-ready pods included (kafka_up=0 must be seen)', () => {
    const monitor = findManifest(manifests, 'ServiceMonitor') as unknown as { spec: { endpoints: { port: string; path: string }[] } };
    expect(monitor.spec.endpoints).toEqual([expect.objectContaining({ port: 'metrics', path: '/metrics', interval: '60s' })]);
    expect((findManifest(manifests, 'Service') as unknown as { spec: { publishNotReadyAddresses: boolean } }).spec.publishNotReadyAddresses).toBe(true);
  });

  it('exposes the admin API on its own port with the token mounted, reachable only from the listed peers', () => {
    const pod = podSpec(manifests);
    expect(pod.containers[0]!.ports.map((p) => [p.name, p.containerPort])).toEqual([['metrics', 9464], ['admin', 9465]]);
    expect(pod.volumes.find((v) => v.name === 'admin-token')?.secret).toEqual({
      secretName: 'onedrive-connector-admin',
      defaultMode: 0o440,
      items: [
        { key: 'admin-token', path: 'token' },
        { key: 'consent-state-secret', path: 'state-secret' },
      ],
    });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: 'admin-token', mountPath: '/var/run/secrets/onedrive-connector/admin', readOnly: true });
    expect(renderedConfig(manifests).admin).toEqual({
      enabled: true,
      host: '0.0.0.0',
      port: 9465,
      token: { file: '/var/run/secrets/onedrive-connector/admin/token' },
      stateSecret: { file: '/var/run/secrets/onedrive-connector/admin/state-secret' },
    });
    const policy = findManifest(manifests, 'NetworkPolicy') as unknown as { spec: { ingress: { ports: { port: string }[]; from?: unknown[] }[] } };
    const admin = policy.spec.ingress.find((rule) => rule.ports.some((p) => p.port === 'admin'));
    expect(admin?.from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'onboarding-portal' } } }]);
  });

  it('keeps the operator’s own keys beside those the chart writes in the same sections', () => {
    const config = renderedConfig(manifests) as { metrics: unknown; connector: Record<string, unknown>; kafka: Record<string, unknown> };
    expect(config.metrics).toEqual({ enabled: true, host: '0.0.0.0', port: 9464, perTenantDetail: true });
    expect(config.connector).toMatchObject({ spoolDirectory: '/var/spool/onedrive-connector', pollIntervalSeconds: 120 });
    expect(config.kafka.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'onedrive-connector', password: { file: '/var/run/secrets/onedrive-connector/kafka/sasl-password' } });
  });

  it('mounts the Kafka credentials Secret whole, read-only', () => {
    const pod = podSpec(manifests);
    expect(pod.volumes.find((v) => v.name === 'kafka-credentials')?.secret).toEqual({ secretName: 'onedrive-connector-kafka', defaultMode: 0o440 });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: 'kafka-credentials', mountPath: '/var/run/secrets/onedrive-connector/kafka', readOnly: true });
  });
});

describe('the chart refuses what cannot work', () => {
  it('a rules or dashboard switch without its file, with a message naming the file', async () => {
    const bare = await copyChart();
    try {
      await rm(join(bare.dir, 'files'), { recursive: true, force: true });
      const rules = await template(bare.dir, ['--set', 'prometheusRule.enabled=true']);
      expect(rules.code).not.toBe(0);
      expect(rules.stderr).toContain('prometheusRule.enabled is true but the chart has no files/prometheus-rules.yaml');
      const dashboard = await template(bare.dir, ['--set', 'grafanaDashboard.enabled=true']);
      expect(dashboard.code).not.toBe(0);
      expect(dashboard.stderr).toContain('no files/grafana-dashboard.json');
    } finally {
      await bare.remove();
    }
  });

  it('a grace period shorter than the shutdown deadline plus the transaction timeout', async () => {
    const result = await template(CHART_DIR, ['--set', 'terminationGracePeriodSeconds=120', '--set', 'config.kafka.transactionTimeoutSeconds=300']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('terminationGracePeriodSeconds 120 is below connector.shutdownTimeoutSeconds + kafka.transactionTimeoutSeconds (330)');
    const computed = await render(CHART_DIR, ['--set', 'config.kafka.transactionTimeoutSeconds=300', '--set', 'config.connector.shutdownTimeoutSeconds=60']);
    expect(podSpec(computed).terminationGracePeriodSeconds).toBe(60 + 300 + 30);
  });

  it('unknown or mistyped values (values.schema.json), and secrets written into the config', async () => {
    const result = await template(CHART_DIR, ['--set', 'replicaCont=2', '--set', 'image.pullPolicy=Sometimes', '--set', 'config.auth.clientSecret.env=SECRET']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("additional properties 'replicaCont' not allowed");
    expect(result.stderr).toContain("at '/image/pullPolicy'");
    expect(result.stderr).toContain("at '/config/auth'");
  });

  it('a config the connector rejects is caught by `config check` on the rendered output', async () => {
    const manifests = await render(CHART_DIR, ['--set', 'config.connector.pollIntervalSecs=30']);
    const result = await configCheck(manifests);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('pollIntervalSecs');
  });

  it('a Recreate strategy keeps no rollingUpdate block (the API would refuse it)', async () => {
    const manifests = await render(CHART_DIR, ['--set', 'strategy.type=Recreate']);
    expect((findManifest(manifests, 'Deployment') as unknown as { spec: { strategy: unknown } }).spec.strategy).toEqual({ type: 'Recreate' });
    expect(await validateManifests(manifests, kubernetesValidate)).toEqual([]);
  });

  it('the schema validation catches a misspelt field in a manifest', async () => {
    const manifests = await render(CHART_DIR);
    const broken = structuredClone(manifests);
    const container = podSpec(broken).containers[0]! as unknown as Record<string, unknown>;
    container.secutiryContext = container.securityContext;
    const monitor = { apiVersion: 'monitoring.coreos.com/v1', kind: 'ServiceMonitor', metadata: { name: 'bad' }, spec: { endpoints: [{ port: 'metrics', interval: 'often' }], selector: {} } };
    const problems = await validateManifests([...broken, monitor], kubernetesValidate);
    expect(problems).toEqual([expect.stringContaining('interval'), expect.stringContaining("'secutiryContext' was unexpected")]);
  });
});

describe('the install notes', () => {
  /**
   * NOTES.txt as helm renders it. `helm template` leaves NOTES.txt out and `helm install --dry-run` wants
   * a cluster, so a copy of the chart carries it as the block scalar of a YAML template.
   */
  const notes = async (args: readonly string[]): Promise<string> => {
    const chart = await copyChart(featureChart.dir);
    try {
      const text = await readFile(join(chart.dir, 'templates/NOTES.txt'), 'utf8');
      const wrapped = `text: |\n${text.split('\n').map((line) => `  ${line}`).join('\n')}\n`;
      await writeFile(join(chart.dir, 'templates/notes-rendered.yaml'), wrapped);
      const [manifest] = await render(chart.dir, ['--show-only', 'templates/notes-rendered.yaml', ...args]);
      return (manifest as unknown as { text: string }).text;
    } finally {
      await chart.remove();
    }
  };

  it('warn while the config holds the example GUIDs of values.yaml', async () => {
    expect(await notes([])).toContain('WARNING: the config still holds the example GUIDs');
  });

  it('name the Secret to create, how to read /status, and the egress hosts', async () => {
    const text = await notes(['-f', ALL_FEATURES, '--set', 'secrets.auth.type=clientSecret,secrets.auth.existingSecret=onedrive-connector-auth']);
    expect(text).toContain('kubectl -n security create secret generic onedrive-connector-auth --from-literal=client-secret=');
    expect(text).toContain('curl -s localhost:9464/status');
    expect(text).toContain('HTTPS goes to login.microsoftonline.com login.microsoftonline.us manage.office.com manage.office365.us');
    expect(text).not.toContain('WARNING');
  });

  it('warn only when there are more replicas than shards (the extra ones would idle)', async () => {
    expect(await notes(['-f', ALL_FEATURES, '--set', 'replicaCount=3'])).not.toContain('WARNING');
    expect(await notes(['-f', ALL_FEATURES, '--set', 'replicaCount=5', '--set', 'config.kafka.shards.count=4'])).toContain('WARNING: replicaCount is 5 but there are only 4 shards');
  });
});

describe('the chart and the code stay in step', () => {
  it('computes the grace period from the connector’s own defaults when the config leaves the deadlines out', async () => {
    const manifests = await render(CHART_DIR, ['--set', 'config.kafka.transactionTimeoutSeconds=null', '--set', 'config.connector.shutdownTimeoutSeconds=null']);
    const parsed = configSchema.parse(renderedConfig(manifests));
    expect(parsed.connector.shutdownTimeoutSeconds + parsed.kafka.transactionTimeoutSeconds).toBeGreaterThan(0);
    expect(podSpec(manifests).terminationGracePeriodSeconds).toBe(parsed.connector.shutdownTimeoutSeconds + parsed.kafka.transactionTimeoutSeconds + 30);
  });

  it.each(CLOUD_NAMES)('names the %s cloud’s Microsoft hosts (src/config/clouds.ts) in the egress annotation', async (cloud) => {
    const manifests = await render(CHART_DIR, ['--set', `config.tenants[0].id=3920d144-196a-4913-8d1f-a89700b1b96d`, '--set', `config.tenants[0].cloud=${cloud}`]);
    const expected = [CLOUDS[cloud].loginBaseUrl, CLOUDS[cloud].apiBaseUrl].map((url) => new URL(url).hostname).sort().join(' ');
    expect(findManifest(manifests, 'NetworkPolicy').metadata.annotations?.['onedrive-connector/egress-https-hosts']).toBe(expected);
  });

  it('names the hosts of clouds listed for tenants added at run time, and commercial when none is known', async () => {
    const extra = await render(CHART_DIR, ['--set', 'networkPolicy.microsoft.clouds={dod}']);
    expect(findManifest(extra, 'NetworkPolicy').metadata.annotations?.['onedrive-connector/egress-https-hosts']).toBe(
      'login.microsoftonline.com login.microsoftonline.us manage.office.com manage.protection.apps.mil',
    );
    const none = await render(CHART_DIR, ['--set', 'config.tenants=null']);
    expect(findManifest(none, 'NetworkPolicy').metadata.annotations?.['onedrive-connector/egress-https-hosts']).toBe('login.microsoftonline.com manage.office.com');
  });

  it('names the endpoint overrides’ hosts instead when they are set', async () => {
    const manifests = await render(CHART_DIR, ['--set', 'config.endpoints.loginBaseUrl=https://login.sim.test:8443', '--set', 'config.endpoints.apiBaseUrl=https://api.sim.test']);
    expect(findManifest(manifests, 'NetworkPolicy').metadata.annotations?.['onedrive-connector/egress-https-hosts']).toBe('api.sim.test login.sim.test');
  });

  it('deploys the package version by default and runs the image’s own command', async () => {
    const chart = parseYaml(await readFile(join(CHART_DIR, 'Chart.yaml'), 'utf8')) as { appVersion: string };
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart.appVersion).toBe(pkg.version);
    const dockerfile = await readFile(join(ROOT, 'Dockerfile'), 'utf8');
    const cmd = JSON.parse(/^CMD (.+)$/m.exec(dockerfile)![1]!) as string[];
    const container = podSpec(await render(CHART_DIR)).containers[0]! as Container & { image: string };
    expect(container.args).toEqual(cmd);
    expect(container.image).toBe(`onedrive-connector:${pkg.version}`);
  });
});
