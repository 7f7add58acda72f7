// kafkajs' read_committed filter is replaced before any test file loads kafkajs (src/kafka/kafkajs-aborted-filter.ts).
import '../../src/kafka/kafkajs-aborted-filter.ts';
