package dev.skiff.compat;

import java.util.Arrays;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * Word count under exactly_once_v2, run as its own JVM by compat-tests/kafka_streams.rs.
 *
 * <p>Usage: {@code WordCount BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR SLOW_KEY_PREFIX
 * DELAY_MS}.
 *
 * <p>groupBy(word) makes Streams create the repartition topic
 * {@code <application.id>-words-repartition}, and the persistent store "counts" its
 * changelog {@code <application.id>-counts-changelog}, both through its admin client.
 * Counts are written to OUTPUT as decimal strings keyed by the word.
 *
 * <p>The process runs until it is killed (the test kills it with SIGKILL to prove that a
 * crash in the middle of a transaction neither loses nor double-counts a word). It prints
 * {@code STATE <new>} on every state change, so the test can see when it is RUNNING.
 * Each input sentence whose key starts with SLOW_KEY_PREFIX (when that is not empty) costs
 * DELAY_MS of sleep, so that the test can kill the process while it is in the middle of
 * processing one set of sentences, while the instance started after it runs at full speed.
 */
public final class WordCount {
    private WordCount() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 7) {
            System.err.println("usage: WordCount BOOTSTRAP APPLICATION_ID INPUT OUTPUT STATE_DIR"
                    + " SLOW_KEY_PREFIX DELAY_MS");
            System.exit(2);
        }
        String bootstrap = args[0];
        String appId = args[1];
        String input = args[2];
        String output = args[3];
        String stateDir = args[4];
        String slowPrefix = args[5];
        long delayMs = Long.parseLong(args[6]);

        Properties props = new Properties();
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, appId);
        props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        // Short commits keep the test quick; each commit is one transaction.
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
        // A killed member is dropped from the group once its session expires; the restarted
        // instance's rebalance waits for that, so keep it short (Kafka's minimum is 6 s).
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 6000);
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1000);
        // transaction.timeout.ms stays at Streams' EOS default (10 s): longer than the session
        // timeout, so an instance restarted with the same state dir (same process id, same
        // transactional.id) fences the killed one's open transaction through InitProducerId;
        // one restarted with a wiped state dir gets a new process id and transactional.id, and
        // the broker aborts the dead transaction when it times out.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // Streams lingers 100 ms by default, as long as a commit interval here, so most records
        // would reach the broker only with the commit. Sending them at once means a kill
        // nearly always leaves an open transaction with records on the broker to abort.
        props.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), 5);
        // Small polls: Streams commits between the batches a poll returns, so with the slowed-down
        // sentences a batch of 1000 would stretch one transaction over seconds.
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 100);
        // Purge consumed repartition records often (DeleteRecords through the admin client),
        // not every 30 s as by default, so the test sees it happen.
        props.put(StreamsConfig.REPARTITION_PURGE_INTERVAL_MS_CONFIG, 500);

        StreamsBuilder builder = new StreamsBuilder();
        builder.stream(input, Consumed.with(Serdes.String(), Serdes.String()))
                .peek((k, v) -> {
                    if (!slowPrefix.isEmpty() && k != null && k.startsWith(slowPrefix)) {
                        pause(delayMs);
                    }
                })
                .flatMapValues(v -> Arrays.asList(v.toLowerCase().split("\\W+")))
                .filter((k, w) -> !w.isEmpty())
                .groupBy((k, w) -> w, Grouped.with("words", Serdes.String(), Serdes.String()))
                .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("counts")
                        .withKeySerde(Serdes.String())
                        .withValueSerde(Serdes.Long()))
                .toStream()
                .mapValues(n -> Long.toString(n))
                .to(output, Produced.with(Serdes.String(), Serdes.String()));

        KafkaStreams streams = new KafkaStreams(builder.build(), props);
        CountDownLatch dead = new CountDownLatch(1);
        streams.setStateListener((now, before) -> {
            System.out.println("STATE " + now);
            System.out.flush();
            if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                dead.countDown();
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            System.out.println("UNCAUGHT " + e);
            System.out.flush();
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler
                    .StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        streams.start();
        // Normally killed by the test; ending on its own means the client failed.
        dead.await();
        streams.close();
        System.exit(1);
    }

    private static void pause(long ms) {
        if (ms <= 0) {
            return;
        }
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
