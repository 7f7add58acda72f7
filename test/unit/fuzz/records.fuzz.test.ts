import { describeRecordFuzzing } from './properties.ts';

// 20,000 records per property keeps the unit suite quick; the integration suite runs 100,000.
describeRecordFuzzing(Number(process.env['FUZZ_RECORDS'] ?? 20_000));
