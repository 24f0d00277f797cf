#!/usr/bin/env bash
# Prints the runtime classpath of Apache Kafka's broker and CLI tools
# (org.apache.kafka:kafka_2.13 + kafka-tools, version in pom.xml), resolving it
# with Maven on first use and caching the answer next to the pom.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cache="$here/target/classpath.txt"
if [ ! -s "$cache" ] || [ "$here/pom.xml" -nt "$cache" ]; then
    mkdir -p "$here/target"
    mvn -q -B -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$cache" >&2
fi
cat "$cache"
