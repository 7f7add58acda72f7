// kafkajs' read_committed filter is replaced before any test file loads kafkajs (src/kafka/kafkajs-aborted-filter.ts).
import '../../src/kafka/kafkajs-aborted-filter.ts';
// kafkajs asks for no topic's metadata, not every topic's, for a client that has used none (src/kafka/kafkajs-metadata-scope.ts).
import '../../src/kafka/kafkajs-metadata-scope.ts';
