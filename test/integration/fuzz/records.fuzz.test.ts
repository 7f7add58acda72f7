import { describeRecordFuzzing } from '../../unit/fuzz/properties.ts';

// The full-size fuzz run (about 60 s on two cores): 100,000 mutated records per property.
describeRecordFuzzing(Number(process.env['FUZZ_RECORDS'] ?? 100_000));
