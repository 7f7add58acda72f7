#!/usr/bin/env bash
# The quick start from a fresh clone: installs Node 24 and the npm packages, starts the local Kafka
# broker (from Maven Central jars), runs three simulated healthy tenants and one with audit logging off
# through the connector into Kafka, prints what arrived (per tenant and action, one sample event, the
# topics and metrics), and stops everything it started. Extra arguments go to `onedrive-connector demo`.
# Environment: KAFKA_PORT (19092) moves the local broker; the demo then connects to 127.0.0.1:$KAFKA_PORT.
# KAFKA_BROKERS (host:port[,…]) other than 127.0.0.1:$KAFKA_PORT points the demo at that broker instead
# (none is started then).
source "$(dirname "$0")/lib/env.sh"
cd "$PROJECT_ROOT"
started_kafka=0
stop_kafka() { if [[ $started_kafka == 1 ]]; then scripts/kafka.sh stop >&2 || true; started_kafka=0; fi; }
trap stop_kafka EXIT
export KAFKA_PORT="${KAFKA_PORT:-19092}"
# The demo must talk to the broker this script manages, never to whatever listens on another port.
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
if [[ "$KAFKA_BROKERS" == "127.0.0.1:$KAFKA_PORT" ]]; then
  if ! scripts/kafka.sh status >/dev/null 2>&1; then
    scripts/kafka.sh start >&2
    started_kafka=1
  fi
fi
node bin/onedrive-connector.js demo --brokers "$KAFKA_BROKERS" "$@"
