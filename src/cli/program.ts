import { Command } from 'commander';
import { registerSimulateCommand } from './commands/simulate.ts';
import { registerNormalizeCommand } from './commands/normalize.ts';
import { registerRunCommand } from './commands/run.ts';
import { registerConfigCommand } from './commands/config.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerReplayCommand } from './commands/replay.ts';
import { registerRecordCommand } from './commands/record.ts';
import { registerFixturesCommand } from './commands/fixtures.ts';

/**
 * The command tree. Each command's action sets `process.exitCode` (0 by default); usage errors surface
 * as CommanderError. Nothing below cli/main.ts ends the process.
 */
export function buildProgram(): Command {
  const program = new Command('onedrive-connector')
    .description('Collect OneDrive and SharePoint file activity from Microsoft 365 tenants into Kafka.')
    .showHelpAfterError()
    .exitOverride();
  registerRunCommand(program);
  registerConfigCommand(program);
  registerSimulateCommand(program);
  registerReplayCommand(program);
  registerRecordCommand(program);
  registerFixturesCommand(program);
  registerDemoCommand(program);
  registerNormalizeCommand(program);
  return program;
}
