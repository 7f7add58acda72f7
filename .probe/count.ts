import { Kafka, logLevel } from 'kafkajs';
const kafka = new Kafka({ clientId: 'count', brokers: [process.env['KAFKA_BROKERS'] ?? '127.0.0.1:39092'], logLevel: logLevel.NOTHING });
const admin = kafka.admin();
await admin.connect();
const md = await admin.fetchTopicMetadata();
const parts = md.topics.reduce((n, t) => n + t.partitions.length, 0);
console.log('topics', md.topics.length, 'partitions', parts);
await admin.disconnect();
