package dev.skiff.compat;

import io.confluent.kafka.serializers.KafkaAvroDeserializer;
import io.confluent.kafka.serializers.KafkaAvroSerializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Produces Avro records with Confluent's KafkaAvroSerializer (which registers
 * the schema under TOPIC-value in Skiff's registry) and reads them back with
 * KafkaAvroDeserializer (which fetches the schema by the id in each message).
 * Env: SKIFF_BOOTSTRAP, SKIFF_SCHEMA_REGISTRY, SKIFF_TOPIC. Prints PASS or FAIL.
 */
public final class AvroRoundTrip {
  private static final String SCHEMA =
      "{\"type\":\"record\",\"name\":\"Payment\",\"namespace\":\"dev.skiff.compat\","
          + "\"fields\":[{\"name\":\"id\",\"type\":\"string\"},"
          + "{\"name\":\"amount\",\"type\":\"double\"}]}";
  private static final int COUNT = 5;

  public static void main(String[] args) throws Exception {
    String bootstrap = System.getenv("SKIFF_BOOTSTRAP");
    String registry = System.getenv("SKIFF_SCHEMA_REGISTRY");
    String topic = System.getenv("SKIFF_TOPIC");
    Schema schema = new Schema.Parser().parse(SCHEMA);

    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, KafkaAvroSerializer.class.getName());
    p.put("schema.registry.url", registry);
    try (KafkaProducer<String, Object> producer = new KafkaProducer<>(p)) {
      for (int i = 0; i < COUNT; i++) {
        GenericRecord r = new GenericData.Record(schema);
        r.put("id", "p" + i);
        r.put("amount", i * 2.5);
        producer.send(new ProducerRecord<>(topic, 0, "k" + i, r)).get();
      }
    }

    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, topic + "-reader");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, KafkaAvroDeserializer.class.getName());
    c.put("schema.registry.url", registry);
    List<String> got = new ArrayList<>();
    try (KafkaConsumer<String, Object> consumer = new KafkaConsumer<>(c)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long deadline = System.currentTimeMillis() + 30_000;
      while (got.size() < COUNT && System.currentTimeMillis() < deadline) {
        for (ConsumerRecord<String, Object> rec : consumer.poll(Duration.ofMillis(500))) {
          GenericRecord v = (GenericRecord) rec.value();
          got.add(rec.key() + "=" + v.get("id") + ":" + v.get("amount"));
        }
      }
    }
    List<String> want = new ArrayList<>();
    for (int i = 0; i < COUNT; i++) {
      want.add("k" + i + "=p" + i + ":" + (i * 2.5));
    }
    if (got.equals(want)) {
      System.out.println("PASS java-avro-round-trip " + got);
    } else {
      System.out.println("FAIL java-avro-round-trip: got " + got + " want " + want);
      System.exit(1);
    }
  }
}
