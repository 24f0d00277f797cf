#!/usr/bin/env bash
# Runs real Apache Kafka (the version pinned in pom.xml) as a single-node KRaft
# broker+controller on 127.0.0.1, from the Maven jars (no Docker), so the compat
# suite and the benchmark can use it as the reference peer.
#
#   kafka-reference.sh start   [--port N] [--controller-port N] [--dir D] [--heap SIZE]
#                              [--timeout S] [--set KEY=VALUE]...
#       Writes the config, formats the data dir, starts the broker in the
#       background and waits until it answers a Metadata request listing itself.
#       Prints `bootstrap=127.0.0.1:PORT`, `pid=PID` and `dir=D` on stdout.
#   kafka-reference.sh run     [same options]
#       The same, in the foreground: the script becomes the JVM (exec), so its pid
#       is the broker's pid. Nothing is printed; logs go to D/logs/server.log.
#   kafka-reference.sh prepare [same options]
#       Only writes the config and formats (prints bootstrap= and dir=); a later
#       `run --dir D` or `start --dir D` reuses them. The benchmark uses this so
#       that formatting is not counted as start-up time.
#   kafka-reference.sh wait    --dir D [--timeout S]
#       Waits until the broker configured in D answers; prints bootstrap=.
#   kafka-reference.sh stop    [--dir D | PID]
#       Stops the broker started from D (or that pid; or, with neither, the last
#       one `start` launched): SIGTERM, then SIGKILL after 20 s.
#
# Without --port/--controller-port free ports are chosen; without --dir a fresh
# temp dir is made (and kept: the caller removes it, or passes --dir). --set
# appends a broker setting to the config written for a fresh dir. Logs:
# D/logs/server.log (log4j2), D/logs/stdout.log (JVM stdout/stderr).
# Environment: KAFKA_HEAP (default 1g) as --heap; JAVA (default java).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
last_file="$here/target/last-started"

die() { echo "kafka-reference: $*" >&2; exit 1; }

usage() { sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
cmd="$1"; shift
port=""; cport=""; dir=""; heap="${KAFKA_HEAP:-1g}"; timeout=120; stop_pid=""
sets=()
while [ $# -gt 0 ]; do
    case "$1" in
        --port) port="$2"; shift 2 ;;
        --port=*) port="${1#*=}"; shift ;;
        --controller-port) cport="$2"; shift 2 ;;
        --controller-port=*) cport="${1#*=}"; shift ;;
        --dir) dir="$2"; shift 2 ;;
        --dir=*) dir="${1#*=}"; shift ;;
        --heap) heap="$2"; shift 2 ;;
        --heap=*) heap="${1#*=}"; shift ;;
        --set) sets+=("$2"); shift 2 ;;
        --set=*) sets+=("${1#*=}"); shift ;;
        --timeout) timeout="$2"; shift 2 ;;
        --timeout=*) timeout="${1#*=}"; shift ;;
        -h|--help) usage ;;
        [0-9]*) stop_pid="$1"; shift ;;
        *) die "unknown argument: $1" ;;
    esac
done

# A free port on 127.0.0.1 (bound to 0 and released; the race with other
# processes taking it in between is accepted, as for any ephemeral-port test).
free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Exit status 0 once the broker at 127.0.0.1:$1 answers Metadata v1 with at
# least one broker: KRaft lists only unfenced brokers, so this means "ready for
# clients", not merely "socket open".
probe() {
    python3 - "$1" <<'EOF'
import socket, struct, sys
port = int(sys.argv[1])
try:
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    cid = b"kafka-reference-probe"
    # Metadata (key 3) v1, request header v1, body: topics = [] (none).
    body = struct.pack(">hhih", 3, 1, 7, len(cid)) + cid + struct.pack(">i", 0)
    s.sendall(struct.pack(">i", len(body)) + body)
    def read(n):
        b = b""
        while len(b) < n:
            c = s.recv(n - len(b))
            if not c:
                raise EOFError
            b += c
        return b
    size = struct.unpack(">i", read(4))[0]
    resp = read(size)
    corr, nbrokers = struct.unpack(">ii", resp[:8])
    sys.exit(0 if corr == 7 and nbrokers >= 1 else 1)
except Exception:
    sys.exit(1)
EOF
}

# The client port of the broker configured in D (kept beside its config).
dir_port() { cat "$dir/port"; }

# Writes D/server.properties + D/log4j2.properties and formats D/data, unless
# D was already prepared (then the ports in its config win over new ones).
prepare() {
    if [ -z "$dir" ]; then
        dir="$(mktemp -d "${TMPDIR:-/tmp}/kafka-reference.XXXXXX")"
    fi
    mkdir -p "$dir/logs"
    dir="$(cd "$dir" && pwd)"
    if [ -f "$dir/data/meta.properties" ] && [ -f "$dir/server.properties" ]; then
        [ ${#sets[@]} -eq 0 ] || die "--set applies only to a fresh --dir ($dir is already formatted)"
        port="$(dir_port)"
        return 0
    fi
    [ -n "$port" ] || port="$(free_port)"
    [ -n "$cport" ] || cport="$(free_port)"
    [ "$port" != "$cport" ] || cport="$(free_port)"
    cat >"$dir/server.properties" <<EOF
# Written by kafka-reference.sh: one node that is both broker and controller.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$dir/data
num.partitions=1
default.replication.factor=1
min.insync.replicas=1
# Internal topics must fit on one node.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Tests should not wait 3 s for every group's first rebalance.
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
EOF
    local kv
    for kv in "${sets[@]}"; do
        case "$kv" in *=*) ;; *) die "--set $kv: expected KEY=VALUE" ;; esac
        echo "$kv" >>"$dir/server.properties"
    done
    echo "$port" >"$dir/port"
    cat >"$dir/log4j2.properties" <<EOF
status = warn
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = $dir/logs/server.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
EOF
    # A Kafka Uuid: 16 random bytes, base64url without padding; one starting
    # with '-' would read as an option, so draw again.
    local cluster_id
    cluster_id="$(python3 -c 'import base64,os
while True:
    u = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
    if not u.startswith("-"): print(u); break')"
    "${JAVA:-java}" -Xmx256m -cp "$classpath" \
        -Dlog4j2.configurationFile="$dir/log4j2.properties" \
        kafka.tools.StorageTool format --config "$dir/server.properties" \
        --cluster-id "$cluster_id" >"$dir/logs/format.log" 2>&1 \
        || { cat "$dir/logs/format.log" >&2; die "formatting $dir/data failed"; }
}

java_args() {
    # Small heap: the box is shared; Kafka's own default is 1 GiB fixed.
    echo "-Xmx$heap -Xms128m -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -Djava.awt.headless=true"
}

wait_ready() {
    local pid="$1" deadline=$((SECONDS + timeout))
    while ! probe "$port"; do
        if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
            tail -n 30 "$dir/logs/server.log" "$dir/logs/stdout.log" >&2 2>/dev/null || true
            die "broker exited before answering (logs in $dir/logs)"
        fi
        [ $SECONDS -lt $deadline ] || die "broker on port $port did not answer within ${timeout}s (logs in $dir/logs)"
        sleep 0.2
    done
}

case "$cmd" in
    prepare|start|run)
        classpath="$("$here/classpath.sh")"
        prepare
        ;;
esac

case "$cmd" in
    prepare)
        echo "bootstrap=127.0.0.1:$port"
        echo "dir=$dir"
        ;;
    run)
        # shellcheck disable=SC2046
        exec "${JAVA:-java}" $(java_args) -cp "$classpath" \
            -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
            kafka.Kafka "$dir/server.properties"
        ;;
    start)
        if [ -f "$dir/kafka.pid" ] && kill -0 "$(cat "$dir/kafka.pid")" 2>/dev/null; then
            die "a broker from $dir is already running (pid $(cat "$dir/kafka.pid"))"
        fi
        # shellcheck disable=SC2046
        nohup "${JAVA:-java}" $(java_args) -cp "$classpath" \
            -Dlog4j2.configurationFile="$dir/log4j2.properties" -Dkafka.logs.dir="$dir/logs" \
            kafka.Kafka "$dir/server.properties" >"$dir/logs/stdout.log" 2>&1 </dev/null &
        pid=$!
        echo "$pid" >"$dir/kafka.pid"
        mkdir -p "$here/target"
        echo "$dir" >"$last_file"
        wait_ready "$pid"
        echo "bootstrap=127.0.0.1:$port"
        echo "pid=$pid"
        echo "dir=$dir"
        ;;
    wait)
        [ -n "$dir" ] || die "wait needs --dir"
        port="$(dir_port)"
        pid=""
        [ -f "$dir/kafka.pid" ] && pid="$(cat "$dir/kafka.pid")"
        wait_ready "$pid"
        echo "bootstrap=127.0.0.1:$port"
        ;;
    stop)
        if [ -z "$stop_pid" ]; then
            if [ -z "$dir" ]; then
                [ -s "$last_file" ] || die "stop: no --dir or pid given and nothing started"
                dir="$(cat "$last_file")"
            fi
            [ -f "$dir/kafka.pid" ] || die "stop: no $dir/kafka.pid"
            stop_pid="$(cat "$dir/kafka.pid")"
        fi
        if kill -0 "$stop_pid" 2>/dev/null; then
            kill -TERM "$stop_pid"
            for _ in $(seq 1 100); do
                kill -0 "$stop_pid" 2>/dev/null || break
                sleep 0.2
            done
            if kill -0 "$stop_pid" 2>/dev/null; then
                kill -KILL "$stop_pid"
            fi
        fi
        [ -z "$dir" ] || rm -f "$dir/kafka.pid"
        echo "stopped pid=$stop_pid"
        ;;
    *) usage ;;
esac
