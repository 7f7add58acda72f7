#!/usr/bin/env bash
# The quick start from a fresh clone: installs Node 24 and the npm packages, starts the local Kafka
# broker (from Maven Central jars), runs three simulated healthy tenants and one with audit logging off
# through the connector into Kafka, prints what arrived (per tenant and action, one sample event, the
# topics and metrics), and stops everything it started. Extra arguments go to `onedrive-connector demo`.
source "$(dirname "$0")/lib/env.sh"
cd "$PROJECT_ROOT"
started_kafka=0
stop_kafka() { if [[ $started_kafka == 1 ]]; then scripts/kafka.sh stop >&2 || true; started_kafka=0; fi; }
trap stop_kafka EXIT
if ! scripts/kafka.sh status >/dev/null 2>&1; then
  scripts/kafka.sh start >&2
  started_kafka=1
fi
# One tenant onboarding: PendingConsent → Initializing → Monitoring (docs/lifecycle.md).
node bin/onedrive-connector.js demo-onboarding
node bin/onedrive-connector.js demo "$@"
