import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parser } from '@prometheus-io/lezer-promql';
import { Registry, type Metric } from 'prom-client';
import { createMetrics, enableProcessMetrics } from '../../src/telemetry/metrics.ts';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');
export const RULES_FILE = join(PROJECT_ROOT, 'helm/onedrive-connector/files/prometheus-rules.yaml');
export const RULES_TESTS_FILE = join(PROJECT_ROOT, 'test/prometheus/prometheus-rules.test.yaml');
export const DASHBOARD_FILE = join(PROJECT_ROOT, 'helm/onedrive-connector/files/grafana-dashboard.json');

/** Labels Prometheus adds to every scraped series (target labels), so any expression may use them. */
export const TARGET_LABELS = new Set(['job', 'instance', 'namespace', 'pod', 'service', 'container', 'endpoint']);

/**
 * The directory holding Debian's `promtool` and `prometheus`, installed on first use by the project's
 * own installer (CI starts on a fresh machine).
 */
export function prometheusBinDir(): string {
  return execFileSync(join(PROJECT_ROOT, 'scripts/tools/prometheus.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export interface ExportedMetric {
  type: string;
  labelNames: readonly string[];
}

/** Every series name the connector can export (histograms as _bucket/_sum/_count), with its labels. */
export async function exportedSeriesNames(options: { perTenantDetail?: boolean } = {}): Promise<Map<string, ExportedMetric>> {
  const metrics = createMetrics(new Registry(), options);
  enableProcessMetrics(metrics);
  const names = new Map<string, ExportedMetric>();
  for (const metric of metrics.registry.getMetricsAsArray()) {
    const { name, type: metricType } = await (metric as unknown as Metric).get();
    const type = String(metricType);
    const labels = [...((metric as unknown as { labelNames?: string[] }).labelNames ?? [])];
    if (type === 'histogram') {
      names.set(`${name}_bucket`, { type, labelNames: [...labels, 'le'] });
      names.set(`${name}_sum`, { type, labelNames: labels });
      names.set(`${name}_count`, { type, labelNames: labels });
    } else {
      names.set(name, { type, labelNames: labels });
    }
  }
  return names;
}

type SyntaxNode = ReturnType<ReturnType<typeof parser.parse>['cursor']>['node'];

export interface Selector {
  metric: string;
  labels: string[];
}

interface Parsed {
  selectors: Selector[];
  /** `by (…)` labels of each aggregation, with the metrics aggregated. */
  groupings: Array<{ labels: string[]; metrics: string[] }>;
  errors: string[];
}

function selectorOf(node: SyntaxNode, expr: string): Selector | string {
  const identifier = node.getChild('Identifier');
  if (identifier === null) return `selector without a metric name: ${expr.slice(node.from, node.to)}`;
  const labels = descendants(node.getChild('LabelMatchers'), 'LabelName').map((n) => expr.slice(n.from, n.to));
  return { metric: expr.slice(identifier.from, identifier.to), labels };
}

function descendants(node: SyntaxNode | null, name: string): SyntaxNode[] {
  if (node === null) return [];
  const found: SyntaxNode[] = [];
  const cursor = node.cursor();
  const end = node.to;
  while (cursor.next() && cursor.from < end) if (cursor.name === name) found.push(cursor.node);
  return found;
}

/** The metric selectors and groupings of a PromQL expression, or the syntax errors lezer-promql found. */
export function parsePromql(expr: string): Parsed {
  const tree = parser.parse(expr);
  const parsed: Parsed = { selectors: [], groupings: [], errors: [] };
  const cursor = tree.cursor();
  do {
    if (cursor.type.isError) parsed.errors.push(`syntax error near ${JSON.stringify(expr.slice(Math.max(0, cursor.from - 20), cursor.to + 20))}`);
    if (cursor.name === 'VectorSelector') {
      const selector = selectorOf(cursor.node, expr);
      if (typeof selector === 'string') parsed.errors.push(selector);
      else parsed.selectors.push(selector);
    }
    if (cursor.name === 'AggregateExpr') {
      const modifier = cursor.node.getChild('AggregateModifier');
      if (modifier?.getChild('By') != null) {
        const labels = descendants(modifier.getChild('GroupingLabels'), 'LabelName').map((n) => expr.slice(n.from, n.to));
        const metrics = descendants(cursor.node, 'VectorSelector').map((n) => selectorOf(n, expr)).flatMap((s) => (typeof s === 'string' ? [] : [s.metric]));
        parsed.groupings.push({ labels, metrics });
      }
    }
  } while (cursor.next());
  return parsed;
}

/**
 * Problems of an expression against what the connector exports: syntax errors, metrics it does not
 * export, and label matchers on labels the metric does not have (e.g. `tenant` on an aggregated counter).
 */
export function problemsOf(expr: string, exported: Map<string, ExportedMetric>): string[] {
  const { selectors, groupings, errors } = parsePromql(expr);
  const problems = [...errors];
  if (selectors.length === 0) problems.push(`names no metric: ${expr}`);
  for (const { metric, labels } of selectors) {
    const known = exported.get(metric);
    if (known === undefined) {
      problems.push(`${metric} is not exported by the connector`);
      continue;
    }
    for (const label of labels) {
      if (!known.labelNames.includes(label) && !TARGET_LABELS.has(label)) problems.push(`${metric} has no label ${label}`);
    }
  }
  for (const { labels, metrics } of groupings) {
    for (const label of labels) {
      const carriers = metrics.filter((m) => exported.get(m)?.labelNames.includes(label) === true);
      if (carriers.length === 0 && !TARGET_LABELS.has(label)) problems.push(`sum by (${label}) over ${metrics.join(', ')}, which have no label ${label}`);
    }
  }
  return problems;
}
