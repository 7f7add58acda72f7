import type { Command } from 'commander';
import { Anonymizer } from '../../fixtures/anonymize.ts';
import { anonymizeFixtures, readKeyFile } from '../../fixtures/anonymize-folder.ts';

/** `fixtures …`: work with recorded tenant folders (fixtures/README.md). */
export function registerFixturesCommand(program: Command): void {
  const fixtures = program.command('fixtures').description('Work with recorded tenant folders (fixtures/README.md).');
  fixtures
    .command('anonymize')
    .description('Write a pseudonymous copy of recorded tenants: UPNs, user keys, GUIDs, IP addresses and host names replaced by keyed hashes, consistently.')
    .argument('<in>', 'a tenant folder, or a folder of tenant folders')
    .argument('<out>', 'where the copy goes (not the input folder)')
    .requiredOption('--key <keyfile>', 'secret key for the keyed hash (e.g. `openssl rand -hex 32 > KEYFILE`); the same key gives the same pseudonyms')
    .option('--names', 'also pseudonymise file, folder and site names (extensions kept)', false)
    .action(async (input: string, output: string, flags: { key: string; names: boolean }) => {
      const anonymizer = new Anonymizer({ key: await readKeyFile(flags.key), names: flags.names });
      const written = await anonymizeFixtures(input, output, anonymizer);
      process.stdout.write(`Wrote ${written.length} pseudonymous tenant folder(s): ${written.join(', ')}\n`);
    });
}
