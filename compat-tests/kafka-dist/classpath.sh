#!/usr/bin/env bash
# Prints the runtime classpath of Apache Kafka's broker and CLI tools
# (org.apache.kafka:kafka_2.13 + kafka-tools, version in pom.xml), resolving it
# with Maven on first use and caching the answer next to the pom.
#   classpath.sh           the version pinned in pom.xml
#   classpath.sh VERSION   another release (the share-group tools use 4.2.2)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
version="${1:-}"
if [ -n "$version" ]; then
    cache="$here/target/classpath-$version.txt"
    set -- "-Dkafka.version=$version"
else
    cache="$here/target/classpath.txt"
    set --
fi
if [ ! -s "$cache" ] || [ "$here/pom.xml" -nt "$cache" ]; then
    mkdir -p "$here/target"
    mvn -q -B -f "$here/pom.xml" "$@" dependency:build-classpath -Dmdep.outputFile="$cache" >&2
fi
cat "$cache"
