import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { exportedSeriesNames, problemsOf, prometheusBinDir, RULES_FILE, RULES_TESTS_FILE } from '../../support/promql.ts';

const run = promisify(execFile);

interface RulesFile {
  groups: Array<{ name: string; rules: Array<{ alert?: string; expr: string; for?: string; labels?: Record<string, string> }> }>;
}
interface RulesTests {
  rule_files: string[];
  tests: Array<{ name: string; alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }>;
}

/** The alerts issue 10 asks for, by what they watch. */
const REQUIRED_ALERTS = [
  'OneDriveConnectorLagHigh',
  'OneDriveConnectorLagNearRetention',
  'OneDriveConnectorTenantError',
  'OneDriveConnectorDataLoss',
  'OneDriveConnectorThrottlingSustained',
  'OneDriveConnectorDeadLetterGrowth',
  'OneDriveConnectorTenantSilent',
  'OneDriveConnectorKafkaUnreachable',
  'OneDriveConnectorNoShards',
  'OneDriveConnectorLateBlobs',
];

describe('alert rules (helm/onedrive-connector/files/prometheus-rules.yaml)', () => {
  let bin = '';
  let rules: RulesFile;
  let tests: RulesTests;

  beforeAll(async () => {
    bin = prometheusBinDir();
    rules = parse(await readFile(RULES_FILE, 'utf8')) as RulesFile;
    tests = parse(await readFile(RULES_TESTS_FILE, 'utf8')) as RulesTests;
  }, 300_000);

  it('pass promtool check rules', async () => {
    const { stdout } = await run(join(bin, 'promtool'), ['check', 'rules', RULES_FILE]);
    expect(stdout).toContain(`SUCCESS: ${rules.groups.flatMap((g) => g.rules).length} rules found`);
  });

  it('pass their promtool unit tests', async () => {
    const { stdout } = await run(join(bin, 'promtool'), ['test', 'rules', RULES_TESTS_FILE]);
    expect(stdout).toContain('SUCCESS');
  });

  it('hold every alert the operators need, each with a severity and a runbook', () => {
    const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    expect(alerts.map((a) => a.alert).sort()).toEqual([...REQUIRED_ALERTS].sort());
    for (const alert of alerts) {
      expect(['warning', 'critical'], alert.alert).toContain(alert.labels?.['severity']);
    }
    expect(rules.groups.flatMap((g) => g.rules).every((r) => (r as { annotations?: { runbook?: string } }).annotations?.runbook?.startsWith('docs/operations.md#'))).toBe(true);
  });

  it('have a promtool case per alert where it fires and one where it stays quiet', () => {
    const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of REQUIRED_ALERTS) {
      const own = cases.filter((c) => c.alertname === name);
      expect(own.some((c) => c.exp_alerts.length > 0), `${name} never expected to fire`).toBe(true);
      expect(own.some((c) => c.exp_alerts.length === 0), `${name} never expected to stay quiet`).toBe(true);
    }
  });

  it('name only metrics and labels the connector exports', async () => {
    const exported = await exportedSeriesNames();
    const problems = rules.groups.flatMap((g) => g.rules).flatMap((r) => problemsOf(r.expr, exported).map((p) => `${r.alert}: ${p}`));
    expect(problems).toEqual([]);
  });
});
