// docs/operations.md is the runbook the alerts link to: every alert of the chart's rules file has a
// section there, under the anchor its `runbook` annotation names.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const RULES = join(ROOT, 'helm/onedrive-connector/files/prometheus-rules.yaml');
const doc = readFileSync(join(ROOT, 'docs/operations.md'), 'utf8');

/** GitHub's heading anchors: lower case, punctuation other than `-` dropped, spaces to `-`. */
const anchor = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');
const anchors = new Set([...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));

interface Rule {
  alert?: string;
  annotations?: { runbook?: string };
}

describe('docs/operations.md', () => {
  it('has the sections an operator needs', () => {
    for (const section of ['Deploy with the chart', 'Configure tenants', 'Health', 'Read statuses and metrics', 'Alerts and runbooks', 'Common errors and remedies', 'Scaling out', 'Upgrading']) {
      expect(anchors.has(anchor(section)), section).toBe(true);
    }
  });

  it.skipIf(!existsSync(RULES))('has a runbook section for every alert, at the anchor its runbook annotation names', () => {
    const rules = (parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const runbook = rule.annotations?.runbook ?? '';
      expect(runbook, `${rule.alert} runbook annotation`).toMatch(/^docs\/operations\.md#/);
      expect(anchors.has(runbook.split('#')[1]!), `${rule.alert}: section #${runbook.split('#')[1]} in docs/operations.md`).toBe(true);
      expect(anchors.has(anchor(rule.alert!)), `${rule.alert}: heading named after the alert`).toBe(true);
    }
  });
});
