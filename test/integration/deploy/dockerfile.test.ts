// The container image without a Docker engine: hadolint on the Dockerfile, the build context that
// .dockerignore leaves, and the image's own production install followed by its exact entrypoint.
import { cp, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';
import type createIgnore from '@balena/dockerignore';
import { Copy, DockerfileParser, type Instruction } from 'dockerfile-ast';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorProcess, pollUntil } from '../../chaos/lib/connector-process.ts';
import { ChaosWorld } from '../../chaos/lib/world.ts';
import { installTool, ROOT, run, TOOL_INSTALL_TIMEOUT_MS } from '../../support/deploy-tools.ts';
import { kafkaBrokers, requireBroker, uniqueName } from '../../support/kafka.ts';

// A CommonJS module whose typings declare an ES default export: load it as CommonJS, type it by its typings.
const dockerignore = createRequire(import.meta.url)('@balena/dockerignore') as (typeof createIgnore)['default'];

interface Stage {
  name: string;
  image: string;
  instructions: Instruction[];
}

/** The Dockerfile's stages, `ARG` defaults substituted into the FROM images. */
function parseStages(text: string): Stage[] {
  const dockerfile = DockerfileParser.parse(text);
  const args = new Map<string, string>();
  const stages: Stage[] = [];
  for (const instruction of dockerfile.getInstructions()) {
    if (instruction.getKeyword() === 'ARG' && stages.length === 0) {
      const [name, value] = instruction.getArgumentsContent()?.split('=') ?? [];
      if (name !== undefined && value !== undefined) args.set(name, value);
    } else if (instruction.getKeyword() === 'FROM') {
      const [image = '', , name = String(stages.length)] = instruction.getArguments().map((a) => a.getValue());
      stages.push({ name, image: image.replace(/\$\{(\w+)\}/g, (_, arg: string) => args.get(arg) ?? ''), instructions: [] });
    } else if (stages.length > 0) {
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

const argsOf = (stage: Stage, keyword: string): string[][] =>
  stage.instructions.filter((i) => i.getKeyword() === keyword).map((i) => i.getArguments().map((a) => a.getValue()));
const jsonForm = (stage: Stage, keyword: string): string[] => {
  const found = stage.instructions.filter((i) => i.getKeyword() === keyword);
  expect(found, `one ${keyword} in stage ${stage.name}`).toHaveLength(1);
  return JSON.parse(found[0]!.getArgumentsContent() ?? '') as string[];
};
const workdir = (stage: Stage): string => argsOf(stage, 'WORKDIR').at(-1)![0]!;
/** `COPY [--from=…] src… dest` of a stage: sources from the build context only (no --from). */
const contextCopies = (stage: Stage): { sources: string[]; dest: string }[] =>
  stage.instructions
    .filter((i): i is Copy => i instanceof Copy && i.getFromFlag() === null)
    .map((i) => {
      const values = i.getArguments().map((a) => a.getValue());
      return { sources: values.slice(0, -1), dest: values.at(-1)! };
    });
/** The RUN commands of a stage, BuildKit `--mount` flags (caches, not part of the command) removed. */
const runCommands = (stage: Stage): string[] =>
  stage.instructions.filter((i) => i.getKeyword() === 'RUN').map((i) => (i.getArgumentsContent() ?? '').replace(/\\\n/g, ' ').trim());

let stages: Stage[];
let runtime: Stage;
let hadolint = '';

beforeAll(async () => {
  stages = parseStages(await readFile(join(ROOT, 'Dockerfile'), 'utf8'));
  runtime = stages.at(-1)!;
  hadolint = await installTool('hadolint');
}, TOOL_INSTALL_TIMEOUT_MS);

describe('the Dockerfile', () => {
  it('passes hadolint with no finding at any level', async () => {
    const result = await run(hadolint, ['--failure-threshold', 'style', join(ROOT, 'Dockerfile')]);
    expect(result.stdout + result.stderr).toBe('');
    expect(result.code).toBe(0);
  });

  it('would be failed by hadolint if it had the usual mistakes (the check can fail)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hadolint-'));
    try {
      await writeFile(join(dir, 'Dockerfile'), 'FROM node:latest\nRUN cd /app && npm install\nCMD node bin/onedrive-connector.js run\n');
      const result = await run(hadolint, [join(dir, 'Dockerfile')]);
      expect(result.code).not.toBe(0);
      expect(result.stdout).toMatch(/DL3007/); // latest tag
      expect(result.stdout).toMatch(/DL3003/); // cd instead of WORKDIR
      expect(result.stdout).toMatch(/DL3025/); // CMD not in exec form
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is multi-stage on Node 24 and installs production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.image).toMatch(/^node:24[.-]/);
    const installs = stages.flatMap(runCommands).filter((command) => /\bnpm (ci|install)\b/.test(command));
    expect(installs.length).toBeGreaterThan(0);
    for (const command of installs) expect(command).toMatch(/npm ci\b.*--omit=dev/);
    expect(runCommands(runtime)).toEqual([]); // nothing is built or installed in the runtime stage itself
  });

  it('runs as a numeric non-root user with an exec-form entrypoint', () => {
    const user = argsOf(runtime, 'USER').at(-1)![0]!;
    expect(user).toMatch(/^[1-9]\d*(:[1-9]\d*)?$/);
    expect(jsonForm(runtime, 'ENTRYPOINT')).toEqual(['node', 'bin/onedrive-connector.js']);
    expect(jsonForm(runtime, 'CMD')[0]).toBe('run');
  });

  it('.dockerignore leaves exactly what the image copies in the build context', async () => {
    const ignore = dockerignore({}).add(await readFile(join(ROOT, '.dockerignore'), 'utf8'));
    const tracked = (await run('git', ['ls-files', '--cached', '--others', '--exclude-standard'])).stdout.split('\n').filter(Boolean);
    const context = tracked.filter((file) => !ignore.ignores(file));
    const copied = stages.flatMap(contextCopies).flatMap((c) => c.sources);
    for (const file of context) expect(copied.some((source) => file === source || file.startsWith(`${source}/`)), `${file} is copied`).toBe(true);
    for (const source of copied) expect(context.some((file) => file === source || file.startsWith(`${source}/`)), `${source} is in the context`).toBe(true);
    for (const never of ['node_modules/vitest/package.json', '.tools/node_modules/node/bin/node', '.cache/x', '.git/HEAD', 'test/unit/x.test.ts', 'src/node_modules/x/index.js']) {
      expect(ignore.ignores(never), never).toBe(true);
    }
  });
});

describe('the image’s production install and entrypoint (no Docker engine: the same steps on the host)', () => {
  let image = '';
  let appDir = '';
  let env: NodeJS.ProcessEnv = {};

  beforeAll(async () => {
    image = await mkdtemp(join(tmpdir(), 'onedrive-image-'));
    const buildStage = async (stage: Stage): Promise<string> => {
      const dir = join(image, stage.name, workdir(stage));
      await mkdir(dir, { recursive: true });
      for (const { sources, dest } of contextCopies(stage)) {
        for (const source of sources) await cp(join(ROOT, source), join(dir, dest, sources.length > 1 || dest.endsWith('/') ? source : ''), { recursive: true });
      }
      for (const command of runCommands(stage)) {
        const result = await run('sh', ['-c', command.replace(/^(--mount=\S+\s+)+/, '')], { cwd: dir, timeoutMs: 300_000 });
        expect(result.code, `${stage.name}: ${command}\n${result.stderr}`).toBe(0);
      }
      return dir;
    };
    const built = new Map<string, string>();
    for (const stage of stages) built.set(stage.name, await buildStage(stage));
    appDir = built.get(runtime.name)!;
    // COPY --from=<stage>: the dependency tree the earlier stage installed.
    for (const instruction of runtime.instructions) {
      if (!(instruction instanceof Copy) || instruction.getFromFlag() === null) continue;
      const from = instruction.getFromFlag()!.getValue()!;
      const [source, dest] = instruction.getArguments().map((a) => a.getValue());
      const fromStage = stages.find((s) => s.name === from)!;
      await mkdir(dirname(join(appDir, dest!)), { recursive: true });
      await cp(join(image, fromStage.name, source!), join(appDir, dest!), { recursive: true });
    }
    const imageEnv = Object.fromEntries(argsOf(runtime, 'ENV').flat().map((pair) => pair.split('=') as [string, string]));
    env = { PATH: process.env.PATH, HOME: image, ...imageEnv, TMPDIR: tmpdir() };
  }, 600_000);

  afterAll(async () => {
    if (image !== '') await rm(image, { recursive: true, force: true });
  });

  const entrypoint = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const [command, ...entryArgs] = jsonForm(runtime, 'ENTRYPOINT');
    return run(command === 'node' ? process.execPath : command!, [...entryArgs, ...args], { cwd: appDir, env });
  };

  it('holds no development dependency', async () => {
    const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    // A development dependency that a runtime one also needs (ajv, for @platformatic/kafka) is installed
    // anyway; every one the lock file marks development-only must be absent.
    const lock = JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.keys(pkg.devDependencies).filter((dev) => lock.packages[`node_modules/${dev}`]?.dev === true);
    expect(devOnly).toEqual(expect.arrayContaining(['eslint', 'typescript', 'vitest']));
    for (const dev of devOnly) {
      await expect(stat(join(appDir, 'node_modules', dev)), dev).rejects.toThrow();
    }
    for (const dependency of Object.keys(pkg.dependencies)) expect((await stat(join(appDir, 'node_modules', dependency))).isDirectory()).toBe(true);
  });

  it('answers --help through the entrypoint, loading every command and the whole runtime', async () => {
    const result = await entrypoint('--help');
    expect(result.stderr).toBe('');
    for (const command of ['run', 'config', 'simulate', 'normalize']) expect(result.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(result.code).toBe(0);
  });

  it('validates the sample config with `config check` through the entrypoint', async () => {
    await cp(join(ROOT, 'config/example.yaml'), join(image, 'config.yaml'));
    env.ONEDRIVE_CONNECTOR_CLIENT_SECRET = 'from-a-kubernetes-secret';
    const result = await entrypoint('config', 'check', join(image, 'config.yaml'));
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('is valid: 1 tenant(s), delivery exactly-once');
    expect(result.code).toBe(0);
  });

  it('collects every event of a tenant into Kafka from the production install, and exits 0 on SIGTERM', async () => {
    await requireBroker();
    const runId = uniqueName('image');
    // The simulator (frozen clock, in this process) as Microsoft; a small backlog for one tenant.
    const world = await ChaosWorld.start({ tenants: 1, eventsPerHour: 30, seed: runId, mode: 'exactly-once', brokers: kafkaBrokers(), runId, dir: join(image, runId), lookbackHours: 3 });
    const secretEnv = (world.config.auth.clientSecret as { env: string }).env;
    // `node bin/onedrive-connector.js run -c <config>` in the image's working directory with its environment.
    const proc = new ConnectorProcess({
      index: 1,
      configPath: world.configPath,
      cwd: appDir,
      env: { ...env, [secretEnv]: world.sim.clientSecret },
      logFile: join(world.dir, 'connector.log'),
      metricsUrl: `http://127.0.0.1:${world.metricsPort}`,
      tenants: world.tenantIds,
      simNowMs: world.sim.clock.now(),
    });
    world.processes.push(proc);
    try {
      const counts = await pollUntil(
        async () => {
          if (!proc.alive) throw new Error(`the connector exited: ${proc.errorLines.join('\n')}`);
          const progress = await proc.progress();
          if (progress === undefined || progress.published === 0 || proc.freshStarts.size === 0) return undefined;
          const c = await world.countEvents();
          return c.generated > 0 && c.lost === 0 ? c : undefined;
        },
        { timeoutMs: 150_000, intervalMs: 1_000, what: 'every generated event in the events topic' },
      );
      expect(counts).toMatchObject({ lost: 0, duplicates: 0, unexpected: 0 });
      expect((await fetch(`${proc.metricsUrl}/readyz`)).status).toBe(200);
      proc.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
      expect(proc.errorLines).toEqual([]);
    } finally {
      proc.kill('SIGKILL');
      await world.close({ keepDir: false });
    }
  });

  it('runs the image’s default command up to reading its config (exit 1 with the problem, not a crash)', async () => {
    const [, , configPath] = jsonForm(runtime, 'CMD');
    const result = await entrypoint(...jsonForm(runtime, 'CMD').map((arg) => (arg === configPath ? join(image, 'absent', 'config.yaml') : arg)));
    expect(result.stderr).toContain('cannot read the file');
    expect(result.code).toBe(1);
  });
});
