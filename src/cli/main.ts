import { CommanderError } from 'commander';
import { buildProgram } from './program.ts';

/** The entry point: the only module that decides how the process ends. */
try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exitCode = error.exitCode;
  } else {
    process.stderr.write(`onedrive-connector: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  }
}
// A finished command ends the process even when a library left a handle open (a client timer, a
// keep-alive socket): once seen as a connector that logged "stopped cleanly" and then never exited.
// Unref'd, so a process with nothing left open exits at once, as before.
setTimeout(() => process.exit(), 5_000).unref();
