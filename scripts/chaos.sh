#!/usr/bin/env bash
# The full chaos run (docs/chaos.md): a large synthetic backlog collected while the connector is
# SIGKILLed at random moments and, with --broker-outage, the broker is stopped and started under it.
# Ends with `generated=N published_unique=N duplicates=D lost=L`; exits non-zero on any loss (or any
# duplicate in exactly-once mode).
#
#   npm run test:chaos                                   4 tenants × 7 days, 20 kills, exactly-once
#   npm run test:chaos -- --broker-outage --mode at-least-once --kills 30 --seed s2
#   node test/chaos/driver.ts --help                     every flag (each also reads CHAOS_<FLAG>)
#
# The broker: the run stops and starts it, so by default it gets its own (KAFKA_PORT 29192,
# KAFKA_CONTROLLER_PORT 29193, KAFKA_RUN_DIR .run/kafka-chaos-<port>), never the 19092 one other tests share.
# Set those variables (and KAFKA_BROKERS) to use another broker that scripts/kafka.sh manages. It is
# started when nothing answers on KAFKA_BROKERS, and stopped at the end only if this script started it.
source "$(dirname "$0")/lib/env.sh"
cd "$PROJECT_ROOT"

export KAFKA_PORT="${KAFKA_PORT:-29192}"
export KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}"
export KAFKA_RUN_DIR="${KAFKA_RUN_DIR:-$PROJECT_ROOT/.run/kafka-chaos-$KAFKA_PORT}"
export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:$KAFKA_PORT}"
if [[ "$KAFKA_BROKERS" != "127.0.0.1:$KAFKA_PORT" && "$*" == *--broker-outage* ]]; then
  echo "chaos.sh: --broker-outage stops the broker scripts/kafka.sh runs on port $KAFKA_PORT, but KAFKA_BROKERS is $KAFKA_BROKERS" >&2
  exit 2
fi

started_kafka=0
stop_kafka() { if [[ $started_kafka == 1 ]]; then scripts/kafka.sh stop >&2 || true; started_kafka=0; fi; }
trap stop_kafka EXIT
if ! scripts/kafka.sh status >/dev/null 2>&1; then
  scripts/kafka.sh start >/dev/null
  started_kafka=1
elif [[ "$*" == *--broker-outage* ]] && ! grep -qs "PLAINTEXT://127.0.0.1:$KAFKA_PORT," "$KAFKA_RUN_DIR/server.properties"; then
  # kafka.sh stop acts on the pid in KAFKA_RUN_DIR: never let it stop a broker other than the one serving here.
  echo "chaos.sh: a broker serves on $KAFKA_PORT but not from KAFKA_RUN_DIR=$KAFKA_RUN_DIR; --broker-outage refuses to stop it" >&2
  exit 2
fi

set +e
# kafkajs 2.2.4 schedules a negative timeout on Node 24; the warning says nothing about the run.
node --disable-warning=TimeoutNegativeWarning test/chaos/driver.ts "$@"
status=$?
set -e
exit $status
