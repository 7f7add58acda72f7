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
