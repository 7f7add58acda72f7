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
