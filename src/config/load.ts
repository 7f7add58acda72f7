import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { configSchema, type ConnectorConfig, type SecretSource } from './schema.ts';
import { ConnectorError } from '../contracts/errors.ts';

/** Every problem in a config, as `path: message` lines, so an operator fixes them all in one go. */
export class ConfigError extends ConnectorError {
  readonly problems: string[];
  constructor(source: string, problems: string[]) {
    super('CONFIG_INVALID', `${source} has ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`, {
      stage: 'config',
      retriable: false,
    });
    this.problems = problems;
  }
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    const path = issue.path.length === 0 ? '(root)' : issue.path.map(String).join('.');
    return `${path}: ${issue.message}`;
  });
}

/** Validates an already-parsed object (YAML/JSON) against the schema, collecting every problem. */
export function parseConfig(raw: unknown, source = 'config'): ConnectorConfig {
  const result = configSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues));
  return result.data;
}

/** Reads a YAML or JSON file (YAML is a superset of JSON) and validates it. */
export async function loadConfigFile(path: string): Promise<ConnectorConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    throw new ConfigError(path, [`not valid YAML/JSON: ${(error as Error).message}`]);
  }
  return parseConfig(raw, path);
}

/**
 * Reads a secret from its environment variable or file; trailing newlines of mounted files are dropped.
 * `key` is the config path that names the secret (e.g. `auth.clientSecret`): every message names it
 * and the variable or file, so `run` says as much as `config check`. Never the value.
 */
export async function resolveSecret(source: SecretSource, env: NodeJS.ProcessEnv = process.env, key = 'secret'): Promise<string> {
  const fail = (problem: string): ConfigError => new ConfigError('secrets', [`${key}: ${problem}`]);
  if (source.env !== undefined) {
    const value = env[source.env];
    if (value === undefined) throw fail(`environment variable ${source.env} is not set`);
    if (value.trim() === '') throw fail(`environment variable ${source.env} is set but empty`);
    return value;
  }
  const file = source.file ?? '';
  let text: string;
  try {
    text = (await readFile(file, 'utf8')).replace(/\r?\n$/, '');
  } catch (error) {
    throw fail(`cannot read secret file ${file}: ${(error as Error).message}`);
  }
  if (text.trim() === '') throw fail(`secret file ${file} is empty`);
  return text;
}
