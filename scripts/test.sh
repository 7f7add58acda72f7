#!/usr/bin/env bash
# The full test suite from a fresh clone: installs Node 24 and the npm dependencies, starts the local
# Kafka broker (unless one is already serving), runs the unit, integration and (short) chaos tests, stops
# the broker it started, and ends with the plain summary line `N passed, N failed`.
#   scripts/test.sh                 everything
#   scripts/test.sh --project unit  one layer (any vitest arguments pass through)
source "$(dirname "$0")/lib/env.sh"
cd "$PROJECT_ROOT"
mkdir -p .run

started_kafka=0
# The SASL_SSL integration test publishes through the broker's SASL_SSL listener (scripts/kafka.sh).
export KAFKA_SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-$((${KAFKA_PORT:-19092} + 2))}"
stop_kafka() { if [[ $started_kafka == 1 ]]; then scripts/kafka.sh stop >&2 || true; started_kafka=0; fi; }
trap stop_kafka EXIT
if [[ "$*" != *"--project unit"* ]] && ! scripts/kafka.sh status >/dev/null 2>&1; then
  scripts/kafka.sh start >&2
  started_kafka=1
fi

# The deployment checks (test/integration/deploy) spawn helm, hadolint and kubernetes-validate: install
# them before the run (idempotent; helm's first build from the Go module proxy takes a few minutes, which
# should not count against a test hook's timeout).
if [[ "$*" != *"--project unit"* ]]; then
  for tool in helm hadolint kubernetes-validate; do scripts/tools/$tool.sh >/dev/null; done
fi

report=.run/vitest-report.json
rm -f "$report"
args=("$@")
[[ ${#args[@]} -eq 0 ]] && args=(--project unit --project integration --project chaos)
set +e
npx vitest run "${args[@]}" --reporter=default --reporter=json --outputFile.json="$report"
status=$?
set -e
stop_kafka

if [[ -f "$report" ]]; then
  node -e '
    const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + (r.numTodoTests ?? 0);
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$report"
else
  echo "0 passed, 0 failed"
fi
exit $status
