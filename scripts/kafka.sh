#!/usr/bin/env bash
# A real single-node Apache Kafka broker (KRaft, combined broker+controller, loopback only) for
# integration tests, CI and the quick start, run from Maven Central jars: no Docker, no tarball.
#
#   scripts/kafka.sh start    resolve jars if needed, format storage once, start, wait until serving
#   scripts/kafka.sh stop     SIGTERM, then SIGKILL after KAFKA_STOP_TIMEOUT_SECONDS (30)
#   scripts/kafka.sh status   exit 0 when the broker answers requests
#   scripts/kafka.sh reset    stop and wipe the data directory
#
# Environment: KAFKA_PORT (19092), KAFKA_CONTROLLER_PORT (19093), KAFKA_DATA_DIR (.run/kafka/data),
# KAFKA_RUN_DIR (.run/kafka: pid, log, config), KAFKA_HEAP_OPTS (-Xms256m -Xmx512m), KAFKA_READY_TIMEOUT_SECONDS (90).
#
# KAFKA_SASL_SSL_PORT=<port> adds a SASL_SSL listener (TLS with client certificates required; SASL PLAIN
# and SCRAM-SHA-512) beside the PLAINTEXT one. At start it generates, once, a CA, a broker and a client
# certificate (openssl, keytool) and the users' passwords under $KAFKA_RUN_DIR/sasl-ssl/, creates the
# SCRAM user (kafka-configs), and writes $KAFKA_RUN_DIR/sasl-ssl/listener.json: CA, client certificate
# and key, users and password files — what a client (and the SASL_SSL integration test) needs.
source "$(dirname "$0")/lib/env.sh"

KAFKA_PORT="${KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-19093}"
POM="$PROJECT_ROOT/scripts/kafka/pom.xml"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM")"
LIBS_DIR="$PROJECT_ROOT/.cache/kafka-libs-$KAFKA_VERSION"
RUN_DIR="${KAFKA_RUN_DIR:-$PROJECT_ROOT/.run/kafka}"
DATA_DIR="${KAFKA_DATA_DIR:-$RUN_DIR/data}"
PID_FILE="$RUN_DIR/kafka.pid"
LOG_FILE="$RUN_DIR/server.log"
BOOTSTRAP="127.0.0.1:$KAFKA_PORT"
SASL_SSL_PORT="${KAFKA_SASL_SSL_PORT:-}"
SASL_DIR="$RUN_DIR/sasl-ssl"
PLAIN_USER=connector-plain
SCRAM_USER=connector-scram

log() { echo "kafka.sh: $*" >&2; }

resolve_jars() {
  [[ -d "$LIBS_DIR" ]] && return 0
  command -v mvn >/dev/null || { log "Maven (mvn) is needed to fetch the Kafka jars"; exit 1; }
  log "Resolving Apache Kafka $KAFKA_VERSION jars from Maven Central into ${LIBS_DIR#"$PROJECT_ROOT"/} ..."
  local tmp="$LIBS_DIR.partial.$$"
  rm -rf "$tmp"
  mkdir -p "$(dirname "$LIBS_DIR")"
  # Maven's output is only interesting when it fails (quiet mode still prints colour codes).
  if ! mvn -B -q -Dstyle.color=never -f "$POM" dependency:copy-dependencies -DincludeScope=runtime \
    -DoutputDirectory="$tmp" >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    exit 1
  fi
  rm -f "$tmp.log"
  # Renamed only when complete, so an interrupted download is never mistaken for a classpath.
  mv "$tmp" "$LIBS_DIR"
}

# A throwaway PKI for the loopback listener: CA, broker certificate (SAN 127.0.0.1 and localhost) and a
# client certificate, as PEM for clients and PKCS12 stores for the broker. Generated once, kept across restarts.
ensure_sasl_ssl_material() {
  [[ -f "$SASL_DIR/listener.json" && -f "$SASL_DIR/broker.p12" ]] && return 0
  command -v openssl >/dev/null || { log "openssl is needed for the SASL_SSL listener"; exit 1; }
  command -v keytool >/dev/null || { log "keytool (from the JDK) is needed for the SASL_SSL listener"; exit 1; }
  log "Generating the SASL_SSL listener's CA, certificates and passwords in ${SASL_DIR#"$PROJECT_ROOT"/}"
  local tmp="$SASL_DIR.partial.$$" who usage
  rm -rf "$tmp"
  mkdir -p "$tmp"
  (
    cd "$tmp"
    umask 077
    for secret in store plain scram; do openssl rand -hex 16 >"$secret-password"; done
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=onedrive-connector test CA" -keyout ca-key.pem -out ca.pem \
      -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
    for who in broker client; do
      usage=clientAuth
      [[ $who == broker ]] && usage=serverAuth
      openssl req -newkey rsa:2048 -nodes -subj "/CN=$who" -keyout "$who-key.pem" -out "$who.csr" 2>/dev/null
      printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=%s\n' "$usage" >"$who.ext"
      openssl x509 -req -in "$who.csr" -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 3650 -extfile "$who.ext" -out "$who.pem" 2>/dev/null
    done
    openssl pkcs12 -export -in broker.pem -inkey broker-key.pem -certfile ca.pem -name broker -out broker.p12 -passout file:store-password
    keytool -importcert -noprompt -alias ca -file ca.pem -keystore truststore.p12 -storetype PKCS12 -storepass "$(cat store-password)" >/dev/null 2>&1
    rm -f ./*.csr ./*.ext ./*.srl
    # Final paths: the directory is renamed into place below.
    cat >listener.json <<JSON
{
  "caFile": "$SASL_DIR/ca.pem",
  "certificateFile": "$SASL_DIR/client.pem",
  "privateKeyFile": "$SASL_DIR/client-key.pem",
  "plain": { "username": "$PLAIN_USER", "passwordFile": "$SASL_DIR/plain-password" },
  "scramSha512": { "username": "$SCRAM_USER", "passwordFile": "$SASL_DIR/scram-password" }
}
JSON
  )
  rm -rf "$SASL_DIR"
  mv "$tmp" "$SASL_DIR"
}

# Appended to server.properties when KAFKA_SASL_SSL_PORT is set.
sasl_ssl_config() {
  local store_password plain_password
  store_password="$(cat "$SASL_DIR/store-password")"
  plain_password="$(cat "$SASL_DIR/plain-password")"
  cat <<EOF
sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$SASL_DIR/broker.p12
listener.name.sasl_ssl.ssl.keystore.password=$store_password
listener.name.sasl_ssl.ssl.truststore.type=PKCS12
listener.name.sasl_ssl.ssl.truststore.location=$SASL_DIR/truststore.p12
listener.name.sasl_ssl.ssl.truststore.password=$store_password
listener.name.sasl_ssl.ssl.client.auth=required
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$PLAIN_USER="$plain_password";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
EOF
}

# SCRAM credentials live in the cluster metadata: set (again, idempotently) through the PLAINTEXT listener.
create_scram_user() {
  # The credential outlives restarts in the metadata log; the marker lives (and is wiped) with it.
  local marker="$DATA_DIR/.scram-user-$SCRAM_USER"
  if ! { [[ -f "$marker" ]] && cmp -s "$marker" "$SASL_DIR/scram-password"; }; then
    java -cp "$LIBS_DIR/*" kafka.admin.ConfigCommand --bootstrap-server "$BOOTSTRAP" --alter --entity-type users \
      --entity-name "$SCRAM_USER" --add-config "SCRAM-SHA-512=[iterations=4096,password=$(cat "$SASL_DIR/scram-password")]" \
      >>"$LOG_FILE" 2>&1 || { log "Creating the SCRAM user failed; see ${LOG_FILE#"$PROJECT_ROOT"/}"; exit 1; }
    cp "$SASL_DIR/scram-password" "$marker"
  fi
  echo "$SASL_SSL_PORT" >"$SASL_DIR/port"
  log "SASL_SSL listener on 127.0.0.1:$SASL_SSL_PORT (PLAIN: $PLAIN_USER, SCRAM-SHA-512: $SCRAM_USER; ${SASL_DIR#"$PROJECT_ROOT"/}/listener.json)"
}

write_config() {
  mkdir -p "$RUN_DIR" "$DATA_DIR"
  local listeners="PLAINTEXT://127.0.0.1:$KAFKA_PORT" protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ -n "$SASL_SSL_PORT" ]]; then
    listeners="$listeners,SASL_SSL://127.0.0.1:$SASL_SSL_PORT"
    protocols="$protocols,SASL_SSL:SASL_SSL"
  fi
  # Replication factors and min ISR default to 3/2: on one node the group and transaction
  # coordinators could never create their topics. The rebalance delay would add 3 s to each first
  # join; expired transactions would be aborted only every 10 s instead of every second.
  cat >"$RUN_DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT
listeners=$listeners,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=$listeners
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=$protocols
log.dirs=$DATA_DIR
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
EOF
  [[ -z "$SASL_SSL_PORT" ]] || sasl_ssl_config >>"$RUN_DIR/server.properties"
  # Without a config log4j2 only prints errors; INFO keeps the startup story for failure reports.
  cat >"$RUN_DIR/log4j2.properties" <<'EOF'
appender.out.type=Console
appender.out.name=out
appender.out.layout.type=PatternLayout
appender.out.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.out.ref=out
logger.state.name=state.change.logger
logger.state.level=WARN
logger.log.name=org.apache.kafka.storage.internals.log
logger.log.level=WARN
logger.config.name=org.apache.kafka.common.config.AbstractConfig
logger.config.level=WARN
EOF
}

format_storage() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  local cluster_id
  cluster_id="$(java -cp "$LIBS_DIR/*" kafka.tools.StorageTool random-uuid)"
  log "Formatting $DATA_DIR (cluster $cluster_id)"
  java -cp "$LIBS_DIR/*" kafka.tools.StorageTool format -t "$cluster_id" -c "$RUN_DIR/server.properties" >>"$LOG_FILE" 2>&1 \
    || { tail -n 30 "$LOG_FILE" >&2; exit 1; }
}

# The pid file alone is not trusted: after a reboot the number may belong to another process.
running_pid() {
  [[ -f "$PID_FILE" ]] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && grep -qa 'kafka.Kafka' "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# Serving means a client completes a metadata round trip, not merely that the port is open.
# Args: deadline in seconds, pid to watch (empty: none). Exits non-zero on deadline or process death.
probe() {
  (cd "$PROJECT_ROOT" && node --disable-warning=TimeoutNegativeWarning --input-type=module -e '
    import kafkajs from "kafkajs";
    const [bootstrap, seconds, pid] = process.argv.slice(1);
    const deadline = Date.now() + Number(seconds) * 1000;
    const kafka = new kafkajs.Kafka({ clientId: "kafka-sh-probe", brokers: [bootstrap],
      logLevel: kafkajs.logLevel.NOTHING, connectionTimeout: 1000, requestTimeout: 3000, retry: { retries: 0 } });
    const alive = () => { if (!pid) return true; try { process.kill(Number(pid), 0); return true; } catch { return false; } };
    let last = "not tried";
    while (Date.now() < deadline) {
      if (!alive()) { console.error(`Broker process ${pid} exited`); process.exit(2); }
      const admin = kafka.admin();
      try {
        await admin.connect();
        const { brokers } = await admin.describeCluster();
        await admin.listTopics();
        if (brokers.length > 0) process.exit(0);
        last = "no broker registered yet";
      } catch (error) { last = error.message; } finally { await admin.disconnect().catch(() => {}); }
      await new Promise((r) => setTimeout(r, 250));
    }
    console.error(`Broker at ${bootstrap} not serving after ${seconds}s: ${last}`);
    process.exit(1);
  ' "$BOOTSTRAP" "$1" "${2:-}")
}

wait_ready() {
  local pid="${1:-}" started=$SECONDS
  if probe "${KAFKA_READY_TIMEOUT_SECONDS:-90}" "$pid"; then
    log "Kafka $KAFKA_VERSION serving on $BOOTSTRAP (ready after $((SECONDS - started)) s)"
    echo "$BOOTSTRAP"
  else
    log "Kafka did not become ready; last lines of ${LOG_FILE#"$PROJECT_ROOT"/}:"
    tail -n 40 "$LOG_FILE" >&2 || true
    exit 1
  fi
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

cmd_start() {
  local pid
  if pid="$(running_pid)"; then
    log "Already running (pid $pid); checking it serves"
    wait_ready "$pid"
    return
  fi
  if port_open "$KAFKA_PORT" || port_open "$KAFKA_CONTROLLER_PORT"; then
    log "Port $KAFKA_PORT or $KAFKA_CONTROLLER_PORT is taken by a process this script did not start; checking whether it is a broker"
    wait_ready ""
    return
  fi
  command -v java >/dev/null || { log "Java 17+ is needed to run the broker"; exit 1; }
  resolve_jars
  [[ -z "$SASL_SSL_PORT" ]] || ensure_sasl_ssl_material
  write_config
  format_storage
  log "Starting Kafka $KAFKA_VERSION (log: ${LOG_FILE#"$PROJECT_ROOT"/})"
  # setsid: the broker must outlive the shell (and job-control process group) that started it.
  # shellcheck disable=SC2086
  setsid java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$RUN_DIR/log4j2.properties" \
    -cp "$LIBS_DIR/*" kafka.Kafka "$RUN_DIR/server.properties" >>"$LOG_FILE" 2>&1 </dev/null &
  echo $! >"$PID_FILE"
  wait_ready "$!"
  [[ -z "$SASL_SSL_PORT" ]] || create_scram_user
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    rm -f "$PID_FILE"
    log "Not running"
    return 0
  fi
  log "Stopping Kafka (pid $pid)"
  kill -TERM "$pid"
  local deadline=$((SECONDS + ${KAFKA_STOP_TIMEOUT_SECONDS:-30}))
  while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then
    log "Still running after SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE" "$SASL_DIR/port"
}

cmd_status() {
  local pid
  pid="$(running_pid)" || pid=""
  # A closed port needs no 5 s of probing: callers (scripts/test.sh) ask before every start.
  if port_open "$KAFKA_PORT" && probe 5 "$pid" 2>/dev/null; then
    log "Serving on $BOOTSTRAP${pid:+ (pid $pid)}"
    return 0
  fi
  log "Not serving on $BOOTSTRAP${pid:+ (pid $pid is alive)}"
  return 1
}

cmd_reset() {
  cmd_stop
  log "Wiping $DATA_DIR"
  rm -rf "$DATA_DIR" "$RUN_DIR/server.properties" "$RUN_DIR/log4j2.properties" "$LOG_FILE"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  *) echo "usage: $0 start|stop|status|reset" >&2; exit 2 ;;
esac
