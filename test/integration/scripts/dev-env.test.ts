// The developer shell: `source scripts/dev-env.sh` gives an interactive shell the project's Node 24
// without the strict options scripts/lib/env.sh turns on for scripts (which close a terminal at the next
// failing command); `scripts/dev-shell CMD` runs one command the same way.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT, run } from '../../support/deploy-tools.ts';

const NODE_BIN = join(ROOT, '.tools/node_modules/node/bin');
/** A shell as a user has it: no errexit, nounset or pipefail; a PATH without the project's tools. */
const userShell = (script: string): ReturnType<typeof run> =>
  run('bash', ['--norc', '--noprofile', '-c', `set +e +u +o pipefail; cd "${ROOT}"; ${script}`], {
    env: { HOME: process.env.HOME, PATH: (process.env.PATH ?? '').split(':').filter((p) => !p.startsWith(ROOT)).join(':') },
    timeoutMs: 300_000,
  });
// $- is read in the shell itself: a command substitution would not inherit errexit.
const OPTIONS =
  'if [[ $- == *e* ]]; then e=on; else e=off; fi; if [[ $- == *u* ]]; then u=on; else u=off; fi; ' +
  'echo "errexit=$e nounset=$u $(set -o | grep pipefail | tr -s "\\t " " ")"';

describe('the developer shell', () => {
  it('scripts/lib/env.sh, sourced by scripts, turns strict options on (why users need another way)', async () => {
    const result = await userShell(`source scripts/lib/env.sh; ${OPTIONS}`);
    expect(result.stdout).toContain('errexit=on nounset=on pipefail on');
  });

  it('source scripts/dev-env.sh puts Node 24 first on PATH and leaves the shell’s options alone', async () => {
    const result = await userShell(`source scripts/dev-env.sh; ${OPTIONS}; false; echo "survived a failing command"; command -v node; node --version; echo "leftover=\${__odc_root-none}"`);
    expect(result.stdout).toContain('errexit=off nounset=off pipefail off');
    expect(result.stdout).toContain('survived a failing command');
    expect(result.stdout).toContain(`${NODE_BIN}/node`);
    expect(result.stdout).toMatch(/^v24\./m);
    expect(result.stdout).toContain('leftover=none');
    expect(result.code).toBe(0);
  });

  it('sourcing it twice adds the PATH entries once', async () => {
    const result = await userShell(`source scripts/dev-env.sh; source scripts/dev-env.sh; echo "$PATH" | tr ':' '\\n' | grep -cx "${NODE_BIN}"`);
    expect(result.stdout.trim()).toBe('1');
  });

  it('scripts/dev-shell runs one command with Node 24, without strict options, passing its exit code on', async () => {
    const node = await userShell('scripts/dev-shell node --version');
    expect(node.stdout).toMatch(/^v24\./);
    const failing = await userShell(`scripts/dev-shell bash -c '${OPTIONS.replaceAll("'", "'\\''")}; exit 3'`);
    expect(failing.stdout).toContain('errexit=off nounset=off pipefail off');
    expect(failing.code).toBe(3);
  });
});
