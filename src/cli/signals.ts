/**
 * Graceful shutdown for long-running commands (invariant 6): the first SIGTERM/SIGINT asks for a clean
 * stop; a second one forces the exit at once. Forcing loses nothing acknowledged, because only
 * acknowledged blobs were ever committed. Part of the entry point: the only place besides main.ts that
 * may end the process.
 */
export function onShutdownSignals(stop: (signal: NodeJS.Signals) => void): () => void {
  let received = 0;
  const handler = (signal: NodeJS.Signals): void => {
    received += 1;
    if (received === 1) {
      stop(signal);
      return;
    }
    process.stderr.write(`Second ${signal}: exiting now.\n`);
    process.exit(130);
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
  return () => {
    process.off('SIGTERM', handler);
    process.off('SIGINT', handler);
  };
}

/** Ends the process at once: used when the shutdown deadline passed with work still in flight. */
export function exitNow(code: number): never {
  process.exit(code);
}

/**
 * After a failed start has closed what it opened, the process should end by itself; if a socket or
 * timer of a half-started client still holds it, this ends it anyway. Unref'd: it never makes the
 * process wait, and never fires when the process ends first.
 */
export function exitSoon(code: number, afterMs = 5000): void {
  setTimeout(() => process.exit(code), afterMs).unref();
}

/**
 * Runs an embedded pipeline command (demo, replay) that a signal may cut short. A terminal's progress
 * line is ended either way. A failed start (the run closed what it opened) exits 1 soon; an
 * interruption says what was left unfinished and exits 130 — nothing is lost by leaving, only
 * acknowledged work was committed. Resolves with the result only when the run was not interrupted.
 */
export async function runInterruptible<R>(
  run: (signal: AbortSignal) => Promise<R>,
  outcome: (result: R) => { interrupted: boolean; drained: boolean },
  unfinished: string,
): Promise<R | undefined> {
  const tty = process.stdout.isTTY;
  const interrupt = new AbortController();
  const release = onShutdownSignals(() => interrupt.abort());
  let result: R;
  try {
    result = await run(interrupt.signal);
  } catch (error) {
    if (tty) process.stdout.write('\n');
    release();
    exitSoon(1);
    throw error;
  }
  release();
  if (tty) process.stdout.write('\n');
  const { interrupted, drained } = outcome(result);
  if (!interrupted) return result;
  process.stderr.write(`${unfinished}; stopped ${drained ? 'cleanly' : 'at the shutdown deadline'}.\n`);
  process.exitCode = 130;
  exitSoon(130, 1000);
  return undefined;
}
