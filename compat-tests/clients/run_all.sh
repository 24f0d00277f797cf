#!/bin/sh
# Run every client script against $SKIFF_BOOTSTRAP (default localhost:9092).
# Needs: pip install kafka-python aiokafka confluent-kafka lz4 cramjam python-snappy zstandard
#        (cd js && npm install)
cd "$(dirname "$0")"
rc=0
for s in python/kafka_python_test.py python/aiokafka_test.py python/confluent_kafka_test.py; do
  echo "== $s"; python3 "$s" || rc=1
done
echo "== js/kafkajs_test.js"; node js/kafkajs_test.js || rc=1
exit $rc
