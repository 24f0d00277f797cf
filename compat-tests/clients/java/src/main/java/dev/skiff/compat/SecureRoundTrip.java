package dev.skiff.compat;

import java.io.FileReader;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * One produce + consume round trip with the stock Java client over a secured
 * listener: the client settings (security.protocol, SASL login, PEM trust
 * and key stores) come from the properties file named by $SKIFF_CLIENT_PROPS,
 * the broker from $SKIFF_BOOTSTRAP. Creates the topic $SKIFF_TOPIC with the
 * Admin client, produces 20 records, reads them back with an assigned
 * consumer and checks every value. Prints PASS or FAIL lines for the driver
 * (compat-tests/java_client.rs).
 */
public final class SecureRoundTrip {
    static final int N = 20;

    public static void main(String[] args) throws Exception {
        String bootstrap = System.getenv("SKIFF_BOOTSTRAP");
        String propsPath = System.getenv("SKIFF_CLIENT_PROPS");
        String topic = System.getenv("SKIFF_TOPIC");
        if (bootstrap == null || propsPath == null || topic == null) {
            System.out.println("FAIL setup: SKIFF_BOOTSTRAP, SKIFF_CLIENT_PROPS and SKIFF_TOPIC must be set");
            System.exit(1);
        }
        Properties base = new Properties();
        try (FileReader r = new FileReader(propsPath)) {
            base.load(r);
        }
        base.put("bootstrap.servers", bootstrap);
        base.put("request.timeout.ms", "10000");
        base.put("reconnect.backoff.max.ms", "500");
        try {
            run(base, topic);
            System.out.println("PASS secure round trip (" + base.getProperty("security.protocol") + ")");
        } catch (Exception e) {
            System.out.println("FAIL secure round trip: " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    static void run(Properties base, String topic) throws Exception {
        try (Admin admin = Admin.create(base)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        Properties pp = new Properties();
        pp.putAll(base);
        pp.put("key.serializer", StringSerializer.class.getName());
        pp.put("value.serializer", StringSerializer.class.getName());
        pp.put("acks", "all");
        try (KafkaProducer<String, String> p = new KafkaProducer<>(pp)) {
            for (int i = 0; i < N; i++) {
                p.send(new ProducerRecord<>(topic, "k" + i, "secure-" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        Properties cp = new Properties();
        cp.putAll(base);
        cp.put("key.deserializer", StringDeserializer.class.getName());
        cp.put("value.deserializer", StringDeserializer.class.getName());
        cp.put("enable.auto.commit", "false");
        cp.put("auto.offset.reset", "earliest");
        List<String> got = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            c.assign(List.of(tp));
            c.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (got.size() < N && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    got.add(r.value());
                }
            }
        }
        if (got.size() != N) {
            throw new IllegalStateException("consumed " + got.size() + " of " + N + " records: " + got);
        }
        for (int i = 0; i < N; i++) {
            if (!got.get(i).equals("secure-" + i)) {
                throw new IllegalStateException("record " + i + " is " + got.get(i));
            }
        }
    }
}
