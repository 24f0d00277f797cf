package dev.skiff.compat;

import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.ConsumerGroupListing;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.DescribeProducersResult;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.ProducerState;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.admin.TransactionDescription;
import org.apache.kafka.clients.admin.TransactionListing;
import org.apache.kafka.clients.admin.TransactionState;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicCollection;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The Java client compatibility suite: runs named scenarios against the broker
 * at $SKIFF_BOOTSTRAP with the stock Apache Kafka client and prints one
 * {@code PASS <scenario>} or {@code FAIL <scenario>: reason} line per scenario.
 * Arguments name a subset of scenarios; without arguments all run. The client's
 * own log (slf4j-simple) goes to a file; after the scenarios it is checked for
 * WARN/ERROR lines about unsupported APIs or versions ({@code client-log}) and
 * every WARN/ERROR line is printed for review. Exit status is non-zero when any
 * scenario failed.
 */
public final class JavaClientCompat {
    /** Limit for any one wait inside a scenario; failures must fail fast. */
    static final Duration WAIT = Duration.ofSeconds(20);
    static final String RUN_ID = ProcessHandle.current().pid() + "-" + (System.nanoTime() % 1_000_000_000L);
    static final AtomicInteger COUNTER = new AtomicInteger();

    static String bootstrap;
    static final java.util.regex.Pattern ENTRY =
            java.util.regex.Pattern.compile("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} \\[.*?\\] (TRACE|DEBUG|INFO|WARN|ERROR) ");

    interface Scenario {
        void run() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        bootstrap = System.getenv("SKIFF_BOOTSTRAP");
        if (bootstrap == null || bootstrap.isBlank()) {
            System.out.println("FAIL setup: SKIFF_BOOTSTRAP is not set");
            System.exit(2);
        }
        // slf4j-simple reads its settings when the first logger is created, which is
        // after this line: no Kafka class has been touched yet.
        String logFile = System.getenv("SKIFF_JAVA_CLIENT_LOG");
        Path log = logFile != null && !logFile.isBlank()
                ? Path.of(logFile)
                : Files.createTempFile("skiff-java-client-", ".log");
        System.setProperty("org.slf4j.simpleLogger.logFile", log.toString());

        Map<String, Scenario> all = new LinkedHashMap<>();
        all.put("producer-defaults", JavaClientCompat::producerDefaults);
        for (String codec : List.of("gzip", "snappy", "lz4", "zstd")) {
            all.put("producer-" + codec, () -> producerCodec(codec));
        }
        all.put("consumer-subscribe-commit-sync", JavaClientCompat::consumerSubscribeCommitSync);
        all.put("consumer-assign-commit-async", JavaClientCompat::consumerAssignCommitAsync);
        all.put("consumer-seek", JavaClientCompat::consumerSeek);
        all.put("consumer-offsets-for-times", JavaClientCompat::consumerOffsetsForTimes);
        all.put("consumer-beginning-end-offsets", JavaClientCompat::consumerBeginningEndOffsets);
        all.put("consumer-read-committed", JavaClientCompat::consumerReadCommitted);
        // KIP-848 (group.protocol=consumer) is generally available from 4.0.
        if (org.apache.kafka.common.utils.AppInfoParser.getVersion().startsWith("4.")) {
            all.put("consumer-protocol-kip848", JavaClientCompat::consumerProtocolKip848);
        }
        all.put("admin-topics", JavaClientCompat::adminTopics);
        all.put("admin-configs", JavaClientCompat::adminConfigs);
        all.put("admin-groups", JavaClientCompat::adminGroups);
        all.put("admin-delete-records", JavaClientCompat::adminDeleteRecords);
        all.put("admin-cluster-log-dirs", JavaClientCompat::adminClusterLogDirs);
        all.put("admin-list-offsets", JavaClientCompat::adminListOffsets);
        all.put("admin-transactions", JavaClientCompat::adminTransactions);
        all.put("txn-consume-transform-produce", JavaClientCompat::txnConsumeTransformProduce);
        all.put("txn-fencing", JavaClientCompat::txnFencing);
        all.put("txn-abort-visibility", JavaClientCompat::txnAbortVisibility);

        List<String> selected = args.length == 0 ? new ArrayList<>(all.keySet()) : Arrays.asList(args);
        System.out.println("kafka-clients " + org.apache.kafka.common.utils.AppInfoParser.getVersion()
                + " against " + bootstrap + ", client log " + log);
        int failed = 0;
        for (String name : selected) {
            Scenario s = all.get(name);
            if (s == null) {
                System.out.println("FAIL " + name + ": no such scenario (known: " + all.keySet() + ")");
                failed++;
                continue;
            }
            long start = System.nanoTime();
            try {
                s.run();
                System.out.printf("PASS %s (%d ms)%n", name, (System.nanoTime() - start) / 1_000_000);
            } catch (Throwable t) {
                System.out.println("FAIL " + name + ": " + describe(t));
                t.printStackTrace(System.err);
                failed++;
            }
            System.out.flush();
        }
        if (!checkClientLog(log)) {
            failed++;
        }
        System.out.flush();
        System.exit(failed == 0 ? 0 : 1);
    }

    // ------------------------------------------------------------------
    // The client's log
    // ------------------------------------------------------------------

    /**
     * Prints every WARN/ERROR entry of the client log (with its continuation
     * lines) and fails when one of them is about an unsupported API or version.
     */
    static boolean checkClientLog(Path log) throws IOException {
        List<String> lines = Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
        List<String> entries = new ArrayList<>();
        StringBuilder cur = null;
        for (String line : lines) {
            // slf4j-simple starts an entry with "HH:mm:ss.SSS [thread] LEVEL logger - msg";
            // stack traces and multi-line messages continue on lines that do not.
            boolean start = ENTRY.matcher(line).lookingAt();
            if (start) {
                if (cur != null) {
                    entries.add(cur.toString());
                }
                cur = new StringBuilder(line);
            } else if (cur != null) {
                cur.append('\n').append(line);
            }
        }
        if (cur != null) {
            entries.add(cur.toString());
        }
        List<String> bad = new ArrayList<>();
        int warnings = 0;
        for (String e : entries) {
            java.util.regex.Matcher m = ENTRY.matcher(e);
            boolean warnOrError = m.lookingAt() && (m.group(1).equals("WARN") || m.group(1).equals("ERROR"));
            String lower = e.toLowerCase();
            boolean unsupported = lower.contains("unsupportedversion") || lower.contains("unsupported version")
                    || lower.contains("unsupported api") || lower.contains("does not support")
                    || lower.contains("not supported by the broker");
            if (warnOrError) {
                warnings++;
                String why = expectedBecause(e);
                System.out.println("CLIENT-LOG " + (why == null ? "" : "(expected: " + why + ") ")
                        + e.replace("\n", "\n    "));
                if (unsupported) {
                    bad.add(e.lines().findFirst().orElse(e));
                }
            } else if (unsupported && m.lookingAt() && m.group(1).equals("INFO")) {
                // Not a WARN, but worth a human's look: print it as a note. (DEBUG lines,
                // when enabled by hand, name every API the client probes and skips.)
                System.out.println("CLIENT-LOG (note) " + e.lines().findFirst().orElse(e));
            }
        }
        System.out.println("client log: " + entries.size() + " entries, " + warnings + " WARN/ERROR");
        if (bad.isEmpty()) {
            System.out.println("PASS client-log");
            return true;
        }
        System.out.println("FAIL client-log: " + bad.size() + " WARN/ERROR entries about unsupported APIs/versions: "
                + String.join(" | ", bad));
        return false;
    }

    /**
     * Why a WARN/ERROR entry is the client's normal reaction to something a
     * scenario provokes on purpose (it logs the same against Kafka), or null.
     */
    static String expectedBecause(String entry) {
        if (entry.contains("DeleteRecordsHandler") && entry.contains("OFFSET_OUT_OF_RANGE")) {
            return "admin-delete-records deletes beyond the high watermark on purpose";
        }
        return null;
    }

    // ------------------------------------------------------------------
    // Helpers
    // ------------------------------------------------------------------

    static String describe(Throwable t) {
        StringBuilder sb = new StringBuilder();
        Throwable c = t;
        int depth = 0;
        while (c != null && depth < 5) {
            if (depth > 0) {
                sb.append(" <- ");
            }
            sb.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage());
            c = c.getCause();
            depth++;
        }
        return sb.toString().replace('\n', ' ');
    }

    static String unique(String prefix) {
        return "java-" + prefix + "-" + RUN_ID + "-" + COUNTER.incrementAndGet();
    }

    static void check(boolean cond, String what) {
        if (!cond) {
            throw new AssertionError(what);
        }
    }

    static void checkEq(Object expected, Object actual, String what) {
        if (expected == null ? actual != null : !expected.equals(actual)) {
            throw new AssertionError(what + ": expected " + expected + ", got " + actual);
        }
    }

    /** Polls {@code probe} until it returns non-null, or fails after {@link #WAIT}. */
    static <T> T await(String what, Supplier<T> probe) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            T v = probe.get();
            if (v != null) {
                return v;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out after " + WAIT.toSeconds() + " s waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    static Properties common() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrap);
        p.put("request.timeout.ms", "10000");
        p.put("reconnect.backoff.max.ms", "500");
        return p;
    }

    static Properties producerProps() {
        Properties p = common();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "20000");
        return p;
    }

    static Properties txnProducerProps(String transactionalId) {
        Properties p = producerProps();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        p.put(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "30000");
        return p;
    }

    static Properties consumerProps(String group) {
        Properties p = common();
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        // The last poll of a drained partition waits this long (default 500 ms).
        p.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
        if (group != null) {
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
            p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "1000");
        }
        return p;
    }

    static Admin admin() {
        Properties p = common();
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "15000");
        return Admin.create(p);
    }

    static void createTopic(Admin admin, String topic, int partitions) throws Exception {
        createTopic(admin, topic, partitions, Map.of());
    }

    static void createTopic(Admin admin, String topic, int partitions, Map<String, String> configs)
            throws Exception {
        admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1).configs(configs))).all().get();
    }

    static List<TopicPartition> partitions(String topic, int n) {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            tps.add(new TopicPartition(topic, i));
        }
        return tps;
    }

    /**
     * Everything in the given partitions, from the beginning up to the end
     * offsets the consumer reports at the start (the last stable offset under
     * read_committed).
     */
    static List<ConsumerRecord<String, String>> readAll(List<TopicPartition> tps, String isolation)
            throws Exception {
        Properties p = consumerProps(null);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> end = c.endOffsets(tps);
            List<ConsumerRecord<String, String>> out = new ArrayList<>();
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (true) {
                boolean done = true;
                for (TopicPartition tp : tps) {
                    if (c.position(tp) < end.get(tp)) {
                        done = false;
                    }
                }
                if (done) {
                    return out;
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("reading " + tps + " (" + isolation + ") did not reach " + end
                            + " within " + WAIT.toSeconds() + " s; got " + out.size() + " records");
                }
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    out.add(r);
                }
            }
        }
    }

    static List<String> values(List<ConsumerRecord<String, String>> recs) {
        return recs.stream().map(ConsumerRecord::value).collect(Collectors.toList());
    }

    static <T> T get(KafkaFuture<T> f) throws Exception {
        return f.get();
    }

    static Throwable rootOf(Throwable t, Class<?>... wanted) {
        Throwable c = t;
        while (c != null) {
            for (Class<?> w : wanted) {
                if (w.isInstance(c)) {
                    return c;
                }
            }
            c = c.getCause();
        }
        return null;
    }

    // ------------------------------------------------------------------
    // Producer scenarios
    // ------------------------------------------------------------------

    record Sent(int seq, String key, String value, List<Header> headers, RecordMetadata meta) {
    }

    /** Sends {@code n} records (keys, values, headers, a null key and a null value
     * among them), consumes everything back and checks it record by record. */
    static void produceAndVerify(Properties props, String topic, int partitionCount, int n) throws Exception {
        List<Future<RecordMetadata>> futures = new ArrayList<>();
        List<Sent> sent = new ArrayList<>();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(props)) {
            for (int i = 0; i < n; i++) {
                String key = i % 37 == 5 ? null : "key-" + (i % 11);
                // Repetitive values so every codec really compresses.
                String value = i % 41 == 7 ? null : "value-" + i + "-" + "abcdefgh".repeat(i % 20);
                List<Header> headers = new ArrayList<>();
                headers.add(new RecordHeader("seq", Integer.toString(i).getBytes(StandardCharsets.UTF_8)));
                if (i % 3 == 0) {
                    headers.add(new RecordHeader("nullable", null));
                }
                if (i % 5 == 0) {
                    headers.add(new RecordHeader("seq", "dup".getBytes(StandardCharsets.UTF_8)));
                }
                ProducerRecord<String, String> rec = new ProducerRecord<>(topic, null, key, value, headers);
                futures.add(p.send(rec));
                sent.add(new Sent(i, key, value, headers, null));
            }
            p.flush();
            for (int i = 0; i < n; i++) {
                Sent s = sent.get(i);
                sent.set(i, new Sent(s.seq, s.key, s.value, s.headers, futures.get(i).get()));
            }
        }
        Map<Integer, List<Sent>> byPartition = new HashMap<>();
        for (Sent s : sent) {
            byPartition.computeIfAbsent(s.meta.partition(), k -> new ArrayList<>()).add(s);
        }
        // Java's defaults (idempotence, acks=all, max.in.flight 5) keep send order per partition.
        for (List<Sent> l : byPartition.values()) {
            for (int i = 0; i < l.size(); i++) {
                checkEq((long) i, l.get(i).meta.offset(), "offset of record " + l.get(i).seq + " in partition "
                        + l.get(i).meta.partition());
            }
        }
        List<ConsumerRecord<String, String>> got = readAll(partitions(topic, partitionCount), "read_uncommitted");
        checkEq(n, got.size(), "records consumed");
        Map<Integer, Integer> next = new HashMap<>();
        for (ConsumerRecord<String, String> r : got) {
            int idx = next.merge(r.partition(), 1, Integer::sum) - 1;
            List<Sent> l = byPartition.get(r.partition());
            check(l != null && idx < l.size(), "unexpected record " + r);
            Sent s = l.get(idx);
            String at = "partition " + r.partition() + " offset " + r.offset();
            checkEq(s.meta.offset(), r.offset(), at + ": offset");
            checkEq(s.key, r.key(), at + ": key");
            checkEq(s.value, r.value(), at + ": value");
            checkEq(s.meta.timestamp(), r.timestamp(), at + ": timestamp");
            Header[] hs = r.headers().toArray();
            checkEq(s.headers.size(), hs.length, at + ": header count");
            for (int h = 0; h < hs.length; h++) {
                checkEq(s.headers.get(h).key(), hs[h].key(), at + ": header " + h + " key");
                check(Arrays.equals(s.headers.get(h).value(), hs[h].value()), at + ": header " + h + " value");
            }
        }
    }

    static void producerDefaults() throws Exception {
        String topic = unique("defaults");
        try (Admin a = admin()) {
            createTopic(a, topic, 3);
        }
        Properties p = producerProps();
        // Java's defaults otherwise: enable.idempotence=true, acks=all, batch.size 16 KiB;
        // linger makes the many small sends share batches.
        p.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        produceAndVerify(p, topic, 3, 600);
    }

    static void producerCodec(String codec) throws Exception {
        String topic = unique("codec-" + codec);
        try (Admin a = admin()) {
            createTopic(a, topic, 2);
        }
        Properties p = producerProps();
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
        p.put(ProducerConfig.LINGER_MS_CONFIG, "10");
        produceAndVerify(p, topic, 2, 400);
        // Timestamp lookups inside a compressed batch are record-exact, as in Kafka.
        String timed = unique("codec-timed-" + codec);
        try (Admin a = admin()) {
            createTopic(a, timed, 1);
        }
        long base = System.currentTimeMillis() - 30_000;
        List<Future<RecordMetadata>> fs = new ArrayList<>();
        try (KafkaProducer<String, String> prod = new KafkaProducer<>(p)) {
            for (int i = 0; i < 10; i++) {
                fs.add(prod.send(new ProducerRecord<>(timed, 0, base + i * 10, "t", "timed-" + i)));
            }
            prod.flush();
        }
        TopicPartition tp = new TopicPartition(timed, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(null))) {
            OffsetAndTimestamp found = c.offsetsForTimes(Map.of(tp, base + 35)).get(tp);
            check(found != null, "offsetsForTimes found nothing");
            checkEq(fs.get(4).get().offset(), found.offset(), "offsetsForTimes inside a " + codec + " batch");
            checkEq(base + 40, found.timestamp(), "offsetsForTimes timestamp inside a " + codec + " batch");
        }
    }

    // ------------------------------------------------------------------
    // Consumer scenarios
    // ------------------------------------------------------------------

    static void produceValues(String topic, int partition, List<String> values, Long timestampBase, long step)
            throws Exception {
        try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps())) {
            for (int i = 0; i < values.size(); i++) {
                Long ts = timestampBase == null ? null : timestampBase + i * step;
                p.send(new ProducerRecord<>(topic, partition, ts, "k" + i, values.get(i)));
            }
            p.flush();
        }
    }

    static List<String> numbered(String prefix, int n) {
        List<String> l = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            l.add(prefix + i);
        }
        return l;
    }

    static void consumerSubscribeCommitSync() throws Exception {
        String topic = unique("subscribe");
        String group = unique("subscribe-group");
        try (Admin a = admin()) {
            createTopic(a, topic, 2);
        }
        produceValues(topic, 0, numbered("a", 30), null, 0);
        produceValues(topic, 1, numbered("b", 30), null, 0);
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(group))) {
            c.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await("60 records through subscribe", () -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    got.add(r);
                }
                return got.size() >= 60 ? got : null;
            });
            checkEq(60, got.size(), "records consumed");
            checkEq(Set.of(p0, p1), c.assignment(), "assignment");
            // Commit a point in the middle of each partition: the next member must resume there.
            c.commitSync(Map.of(p0, new OffsetAndMetadata(12, "meta-p0"), p1, new OffsetAndMetadata(20)));
            Map<TopicPartition, OffsetAndMetadata> committed = c.committed(Set.of(p0, p1));
            checkEq(12L, committed.get(p0).offset(), "committed p0");
            checkEq("meta-p0", committed.get(p0).metadata(), "committed p0 metadata");
            checkEq(20L, committed.get(p1).offset(), "committed p1");
        }
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(group))) {
            c.subscribe(List.of(topic));
            Map<Integer, Long> first = new HashMap<>();
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await("the rest of both partitions through a new member", () -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    first.putIfAbsent(r.partition(), r.offset());
                    got.add(r);
                }
                return got.size() >= 28 ? got : null;
            });
            checkEq(12L, first.get(0), "first offset of p0 after the restart");
            checkEq(20L, first.get(1), "first offset of p1 after the restart");
            checkEq(28, got.size(), "records after the restart");
            checkEq("a12", got.stream().filter(r -> r.partition() == 0).findFirst().get().value(), "p0 value");
            c.commitSync();
            checkEq(30L, c.committed(Set.of(p0)).get(p0).offset(), "committed p0 after commitSync()");
        }
    }

    /** Properties of a group.protocol=consumer member (no session/heartbeat keys: the broker sets them). */
    static Properties kip848Props(String group) {
        Properties p = consumerProps(null);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put("group.protocol", "consumer");
        return p;
    }

    /**
     * Two KIP-848 members split 4 partitions disjointly and cover them, consume every
     * record, commit; when one closes, the other takes over all partitions; a new member
     * resumes from the commits.
     */
    static void consumerProtocolKip848() throws Exception {
        String topic = unique("kip848");
        String group = unique("kip848-group");
        try (Admin a = admin()) {
            createTopic(a, topic, 4);
        }
        for (int p = 0; p < 4; p++) {
            produceValues(topic, p, numbered("p" + p + "-", 10), null, 0);
        }
        Set<TopicPartition> all = new HashSet<>();
        for (int p = 0; p < 4; p++) {
            all.add(new TopicPartition(topic, p));
        }
        Set<String> got = new HashSet<>();
        try (KafkaConsumer<String, String> c1 = new KafkaConsumer<>(kip848Props(group));
             KafkaConsumer<String, String> c2 = new KafkaConsumer<>(kip848Props(group))) {
            c1.subscribe(List.of(topic));
            c2.subscribe(List.of(topic));
            await("two members splitting 4 partitions and 40 records consumed", () -> {
                for (KafkaConsumer<String, String> c : List.of(c1, c2)) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                        got.add(r.value());
                    }
                }
                Set<TopicPartition> a1 = c1.assignment();
                Set<TopicPartition> a2 = c2.assignment();
                Set<TopicPartition> union = new HashSet<>(a1);
                union.addAll(a2);
                boolean split = !a1.isEmpty() && !a2.isEmpty() && a1.size() + a2.size() == 4 && union.equals(all);
                if (!split || got.size() != 40) {
                    return null;
                }
                // A partition that moved is read again by its new owner (no commit on
                // revocation here): wait until both have read theirs to the end.
                for (KafkaConsumer<String, String> c : List.of(c1, c2)) {
                    for (TopicPartition tp : c.assignment()) {
                        if (c.position(tp) != 10L) {
                            return null;
                        }
                    }
                }
                return true;
            });
            c1.commitSync();
            c2.commitSync();
            try (Admin a = admin()) {
                ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get().get(group);
                checkEq("CONSUMER", d.type().name(), "group type");
                checkEq(2, d.members().size(), "members");
            }
            c2.close();
            await("the remaining member owning all 4 partitions", () -> {
                c1.poll(Duration.ofMillis(100));
                return c1.assignment().equals(all) ? true : null;
            });
        }
        produceValues(topic, 0, List.of("after"), null, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(kip848Props(group))) {
            c.subscribe(List.of(topic));
            List<String> rest = new ArrayList<>();
            await("the record produced after the commits", () -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                    rest.add(r.value());
                }
                return rest.contains("after") ? true : null;
            });
            checkEq(List.of("after"), rest, "only the new record after resuming");
        }
    }

    static void consumerAssignCommitAsync() throws Exception {
        String topic = unique("assign");
        String group = unique("assign-group");
        try (Admin a = admin()) {
            createTopic(a, topic, 1);
        }
        produceValues(topic, 0, numbered("v", 25), null, 0);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(group))) {
            c.assign(List.of(tp));
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await("25 records through assign", () -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    got.add(r);
                }
                return got.size() >= 25 ? got : null;
            });
            checkEq(numbered("v", 25), values(got), "values");
            AtomicReference<Object> done = new AtomicReference<>();
            c.commitAsync(Map.of(tp, new OffsetAndMetadata(17)), (offsets, err) ->
                    done.set(err == null ? (Object) offsets : err));
            Object result = await("the commitAsync callback", () -> {
                c.poll(Duration.ofMillis(50));
                return done.get();
            });
            check(!(result instanceof Exception), "commitAsync failed: " + result);
            checkEq(17L, c.committed(Set.of(tp)).get(tp).offset(), "committed after commitAsync");
            // commitAsync() without offsets commits the current position.
            AtomicReference<Object> done2 = new AtomicReference<>();
            c.commitAsync((offsets, err) -> done2.set(err == null ? (Object) offsets : err));
            Object result2 = await("the second commitAsync callback", () -> {
                c.poll(Duration.ofMillis(50));
                return done2.get();
            });
            check(!(result2 instanceof Exception), "commitAsync() failed: " + result2);
            checkEq(25L, c.committed(Set.of(tp)).get(tp).offset(), "committed after commitAsync()");
            c.commitSync(Map.of(tp, new OffsetAndMetadata(17)));
        }
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(group))) {
            c.assign(List.of(tp));
            checkEq(17L, c.position(tp), "position of a new consumer in the group");
            List<ConsumerRecord<String, String>> got = new ArrayList<>();
            await("the records after the committed offset", () -> {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    got.add(r);
                }
                return got.size() >= 8 ? got : null;
            });
            checkEq(numbered("v", 25).subList(17, 25), values(got), "values after resuming");
        }
    }

    static void consumerSeek() throws Exception {
        String topic = unique("seek");
        try (Admin a = admin()) {
            createTopic(a, topic, 1);
        }
        produceValues(topic, 0, numbered("s", 20), null, 0);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(null))) {
            c.assign(List.of(tp));
            c.seek(tp, 7);
            ConsumerRecord<String, String> r = await("a record after seek(7)", () -> {
                ConsumerRecords<String, String> rs = c.poll(Duration.ofMillis(200));
                return rs.isEmpty() ? null : rs.iterator().next();
            });
            checkEq(7L, r.offset(), "offset after seek");
            checkEq("s7", r.value(), "value after seek");
            c.seekToEnd(List.of(tp));
            checkEq(20L, c.position(tp), "position after seekToEnd");
            c.seekToBeginning(List.of(tp));
            checkEq(0L, c.position(tp), "position after seekToBeginning");
            c.seek(tp, new OffsetAndMetadata(19));
            ConsumerRecord<String, String> last = await("a record after seek(19)", () -> {
                ConsumerRecords<String, String> rs = c.poll(Duration.ofMillis(200));
                return rs.isEmpty() ? null : rs.iterator().next();
            });
            checkEq("s19", last.value(), "value after seek(19)");
        }
    }

    static void consumerOffsetsForTimes() throws Exception {
        String topic = unique("for-times");
        try (Admin a = admin()) {
            createTopic(a, topic, 1);
        }
        long base = System.currentTimeMillis() - 100_000;
        produceValues(topic, 0, numbered("t", 10), base, 1000);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(null))) {
            Map<TopicPartition, OffsetAndTimestamp> m = c.offsetsForTimes(Map.of(tp, base + 2500));
            checkEq(3L, m.get(tp).offset(), "offsetsForTimes(base+2.5s) offset");
            checkEq(base + 3000, m.get(tp).timestamp(), "offsetsForTimes(base+2.5s) timestamp");
            m = c.offsetsForTimes(Map.of(tp, base));
            checkEq(0L, m.get(tp).offset(), "offsetsForTimes(base) offset");
            m = c.offsetsForTimes(Map.of(tp, 0L));
            checkEq(0L, m.get(tp).offset(), "offsetsForTimes(0) offset");
            m = c.offsetsForTimes(Map.of(tp, base + 60_000));
            check(m.containsKey(tp) && m.get(tp) == null, "offsetsForTimes past the last record should map to null: "
                    + m);
            c.assign(List.of(tp));
            c.seek(tp, c.offsetsForTimes(Map.of(tp, base + 8000)).get(tp).offset());
            ConsumerRecord<String, String> r = await("a record after seeking by time", () -> {
                ConsumerRecords<String, String> rs = c.poll(Duration.ofMillis(200));
                return rs.isEmpty() ? null : rs.iterator().next();
            });
            checkEq("t8", r.value(), "value at base+8s");
            checkEq(base + 8000, r.timestamp(), "timestamp at base+8s");
        }
    }

    static void consumerBeginningEndOffsets() throws Exception {
        String topic = unique("begin-end");
        try (Admin a = admin()) {
            createTopic(a, topic, 3);
            produceValues(topic, 0, numbered("x", 5), null, 0);
            produceValues(topic, 2, numbered("y", 9), null, 0);
            List<TopicPartition> tps = partitions(topic, 3);
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(null))) {
                checkEq(Map.of(tps.get(0), 0L, tps.get(1), 0L, tps.get(2), 0L), c.beginningOffsets(tps),
                        "beginningOffsets");
                checkEq(Map.of(tps.get(0), 5L, tps.get(1), 0L, tps.get(2), 9L), c.endOffsets(tps), "endOffsets");
                a.deleteRecords(Map.of(tps.get(2), RecordsToDelete.beforeOffset(4))).all().get();
                checkEq(4L, c.beginningOffsets(List.of(tps.get(2))).get(tps.get(2)),
                        "beginningOffsets after deleteRecords");
                checkEq(9L, c.endOffsets(List.of(tps.get(2))).get(tps.get(2)), "endOffsets after deleteRecords");
                checkEq(topic, c.listTopics().get(topic) == null ? null : topic, "listTopics has the topic");
                checkEq(3, c.partitionsFor(topic).size(), "partitionsFor");
            }
        }
    }

    static void consumerReadCommitted() throws Exception {
        String topic = unique("read-committed");
        try (Admin a = admin()) {
            createTopic(a, topic, 1);
        }
        TopicPartition tp = new TopicPartition(topic, 0);
        String tid = unique("rc-txn");
        try (KafkaProducer<String, String> txn = new KafkaProducer<>(txnProducerProps(tid));
             KafkaProducer<String, String> plain = new KafkaProducer<>(producerProps())) {
            txn.initTransactions();
            txn.beginTransaction();
            for (String v : numbered("committed", 4)) {
                txn.send(new ProducerRecord<>(topic, 0, null, v));
            }
            txn.commitTransaction();
            txn.beginTransaction();
            for (String v : numbered("aborted", 3)) {
                txn.send(new ProducerRecord<>(topic, 0, null, v));
            }
            txn.flush();
            txn.abortTransaction();
            plain.send(new ProducerRecord<>(topic, 0, null, "plain")).get();
            txn.beginTransaction();
            txn.send(new ProducerRecord<>(topic, 0, null, "open")).get();
            // The open transaction holds the last stable offset at its first record.
            List<String> expectCommitted = new ArrayList<>(numbered("committed", 4));
            expectCommitted.add("plain");
            checkEq(expectCommitted, values(readAll(List.of(tp), "read_committed")),
                    "read_committed with an open transaction");
            List<String> expectAll = new ArrayList<>(numbered("committed", 4));
            expectAll.addAll(numbered("aborted", 3));
            expectAll.add("plain");
            expectAll.add("open");
            checkEq(expectAll, values(readAll(List.of(tp), "read_uncommitted")), "read_uncommitted");
            Properties rc = consumerProps(null);
            rc.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(rc)) {
                // 4 records + marker, 3 aborted + marker, plain: "open" sits at offset 10.
                checkEq(10L, c.endOffsets(List.of(tp)).get(tp), "read_committed endOffsets (LSO)");
            }
            txn.commitTransaction();
            expectCommitted.add("open");
            checkEq(expectCommitted, values(readAll(List.of(tp), "read_committed")),
                    "read_committed after the commit");
        }
    }

    // ------------------------------------------------------------------
    // Admin scenarios
    // ------------------------------------------------------------------

    static void adminTopics() throws Exception {
        String topic = unique("admin-topic");
        String other = unique("admin-topic-default");
        try (Admin a = admin()) {
            a.createTopics(List.of(new NewTopic(topic, 2, (short) 1).configs(Map.of("cleanup.policy", "compact",
                    "retention.ms", "123456789")), new NewTopic(other, Optional.empty(), Optional.empty())))
                    .all().get();
            try {
                a.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
                throw new AssertionError("creating an existing topic succeeded");
            } catch (ExecutionException e) {
                check(e.getCause() instanceof TopicExistsException, "duplicate create: " + describe(e));
            }
            Set<String> names = a.listTopics().names().get();
            check(names.contains(topic) && names.contains(other), "listTopics lacks the new topics: " + names);
            check(!names.contains("__consumer_offsets"), "listTopics lists internal topics by default");

            TopicDescription d = a.describeTopics(List.of(topic)).allTopicNames().get().get(topic);
            checkEq(2, d.partitions().size(), "partitions");
            check(d.topicId() != null && !d.topicId().equals(Uuid.ZERO_UUID), "topic id " + d.topicId());
            for (TopicPartitionInfo pi : d.partitions()) {
                check(pi.leader() != null && pi.replicas().size() == 1 && pi.isr().size() == 1,
                        "partition info " + pi);
            }
            Uuid id = d.topicId();
            Map<Uuid, TopicDescription> byId = a.describeTopics(TopicCollection.ofTopicIds(List.of(id)))
                    .allTopicIds().get();
            checkEq(topic, byId.get(id).name(), "describeTopics by id: name");
            checkEq(2, byId.get(id).partitions().size(), "describeTopics by id: partitions");
            TopicDescription od = a.describeTopics(List.of(other)).allTopicNames().get().get(other);
            check(od.partitions().size() >= 1, "topic with the default partition count: " + od);

            a.createPartitions(Map.of(topic, NewPartitions.increaseTo(4))).all().get();
            checkEq(4, a.describeTopics(List.of(topic)).allTopicNames().get().get(topic).partitions().size(),
                    "partitions after createPartitions");
            produceValues(topic, 3, List.of("in-new-partition"), null, 0);
            checkEq(List.of("in-new-partition"), values(readAll(List.of(new TopicPartition(topic, 3)),
                    "read_uncommitted")), "records in the new partition");

            a.deleteTopics(List.of(topic, other)).all().get();
            await("the deleted topics to leave listTopics", () -> {
                try {
                    Set<String> n = a.listTopics().names().get();
                    return n.contains(topic) || n.contains(other) ? null : n;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            try {
                a.describeTopics(List.of(topic)).allTopicNames().get();
                throw new AssertionError("describeTopics of a deleted topic succeeded");
            } catch (ExecutionException e) {
                check(e.getCause() instanceof UnknownTopicOrPartitionException,
                        "describe deleted topic: " + describe(e));
            }
            try {
                a.describeTopics(TopicCollection.ofTopicIds(List.of(id))).allTopicIds().get();
                throw new AssertionError("describeTopics by the id of a deleted topic succeeded");
            } catch (ExecutionException e) {
                // Kafka answers UNKNOWN_TOPIC_ID here.
                check(e.getCause().getClass().getSimpleName().startsWith("UnknownTopic"),
                        "describe deleted topic by id: " + describe(e));
            }
        }
    }

    static void adminConfigs() throws Exception {
        String topic = unique("admin-configs");
        try (Admin a = admin()) {
            createTopic(a, topic, 1, Map.of("segment.bytes", "1048576"));
            ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            // Kafka may answer UNKNOWN_TOPIC_OR_PARTITION until the new topic reaches its
            // metadata cache; Skiff knows it at once.
            Config cfg = await("describeConfigs of the new topic", () -> {
                try {
                    return a.describeConfigs(List.of(res)).all().get().get(res);
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                        return null;
                    }
                    throw new RuntimeException(e);
                } catch (InterruptedException e) {
                    throw new RuntimeException(e);
                }
            });
            ConfigEntry seg = cfg.get("segment.bytes");
            check(seg != null, "segment.bytes missing from describeConfigs");
            checkEq("1048576", seg.value(), "segment.bytes");
            checkEq(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, seg.source(), "segment.bytes source");
            ConfigEntry ret = cfg.get("retention.ms");
            check(ret != null, "retention.ms missing from describeConfigs");
            check(ret.source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, "retention.ms source " + ret);
            check(cfg.get("cleanup.policy") != null, "cleanup.policy missing");

            a.incrementalAlterConfigs(Map.of(res, List.of(
                    new AlterConfigOp(new ConfigEntry("retention.ms", "3600000"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("segment.bytes", ""), AlterConfigOp.OpType.DELETE))))
                    .all().get();
            cfg = a.describeConfigs(List.of(res)).all().get().get(res);
            checkEq("3600000", cfg.get("retention.ms").value(), "retention.ms after SET");
            checkEq(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, cfg.get("retention.ms").source(),
                    "retention.ms source after SET");
            check(cfg.get("segment.bytes").source() != ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG,
                    "segment.bytes still a topic override after DELETE: " + cfg.get("segment.bytes"));
            try {
                a.incrementalAlterConfigs(Map.of(res, List.of(new AlterConfigOp(
                        new ConfigEntry("no.such.config", "1"), AlterConfigOp.OpType.SET)))).all().get();
                throw new AssertionError("setting an unknown topic config succeeded");
            } catch (ExecutionException e) {
                check(e.getCause().getClass().getSimpleName().equals("InvalidConfigurationException")
                        || e.getCause().getClass().getSimpleName().equals("InvalidRequestException"),
                        "unknown config: " + describe(e));
            }

            Node node = a.describeCluster().nodes().get().iterator().next();
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, node.idString());
            Config bc = a.describeConfigs(List.of(broker)).all().get().get(broker);
            check(bc.get("log.retention.ms") != null || bc.get("log.retention.hours") != null,
                    "broker config lacks log.retention.*: " + bc.entries().size() + " entries");
        }
    }

    @SuppressWarnings("deprecation")
    static void adminGroups() throws Exception {
        String topic = unique("admin-groups");
        String group = unique("admin-group");
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        try (Admin a = admin()) {
            createTopic(a, topic, 2);
            produceValues(topic, 0, numbered("g", 6), null, 0);
            produceValues(topic, 1, numbered("h", 4), null, 0);
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(group))) {
                c.subscribe(List.of(topic));
                List<ConsumerRecord<String, String>> got = new ArrayList<>();
                await("10 records in the group", () -> {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                        got.add(r);
                    }
                    return got.size() >= 10 ? got : null;
                });
                c.commitSync();

                Collection<ConsumerGroupListing> listed = a.listConsumerGroups().all().get();
                check(listed.stream().anyMatch(g -> g.groupId().equals(group)),
                        "listConsumerGroups lacks " + group + ": " + listed);
                listGroupsIfPresent(a, group);
                ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get().get(group);
                checkEq("Stable", d.state().toString(), "group state with a member");
                checkEq(1, d.members().size(), "members");
                MemberDescription m = d.members().iterator().next();
                checkEq(Set.of(p0, p1), m.assignment().topicPartitions(), "member assignment");
                // The Java default is [range, cooperative-sticky]; the group picks the first.
                checkEq("range", d.partitionAssignor(), "assignor");
                check(d.coordinator() != null, "coordinator");
            }
            ConsumerGroupDescription d = await("the group to become Empty", () -> {
                try {
                    ConsumerGroupDescription x = a.describeConsumerGroups(List.of(group)).all().get().get(group);
                    return x.state().toString().equals("Empty") ? x : null;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            checkEq(0, d.members().size(), "members after close");

            Map<TopicPartition, OffsetAndMetadata> offs = a.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            checkEq(6L, offs.get(p0).offset(), "listConsumerGroupOffsets p0");
            checkEq(4L, offs.get(p1).offset(), "listConsumerGroupOffsets p1");

            a.alterConsumerGroupOffsets(group, Map.of(p0, new OffsetAndMetadata(2))).all().get();
            offs = a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            checkEq(2L, offs.get(p0).offset(), "offset after alterConsumerGroupOffsets");
            checkEq(4L, offs.get(p1).offset(), "untouched p1 after alterConsumerGroupOffsets");

            a.deleteConsumerGroupOffsets(group, Set.of(p1)).all().get();
            offs = a.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            check(!offs.containsKey(p1) || offs.get(p1) == null, "p1 after deleteConsumerGroupOffsets: " + offs);
            checkEq(2L, offs.get(p0).offset(), "p0 after deleteConsumerGroupOffsets");

            // A new member starts from the altered offset.
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(consumerProps(group))) {
                c.assign(List.of(p0));
                checkEq(2L, c.position(p0), "position from the altered offset");
            }

            a.deleteConsumerGroups(List.of(group)).all().get();
            Collection<ConsumerGroupListing> after = a.listConsumerGroups().all().get();
            check(after.stream().noneMatch(g -> g.groupId().equals(group)), "group listed after delete");
        }
    }

    /** kafka-clients 4.x has Admin.listGroups (KIP-1043); 3.9 does not, so call it by reflection. */
    static void listGroupsIfPresent(Admin a, String group) throws Exception {
        Method m;
        try {
            m = Admin.class.getMethod("listGroups");
        } catch (NoSuchMethodException e) {
            return;
        }
        Object result = m.invoke(a);
        KafkaFuture<?> all = (KafkaFuture<?>) result.getClass().getMethod("all").invoke(result);
        Collection<?> listings = (Collection<?>) all.get();
        boolean found = false;
        for (Object l : listings) {
            String id = (String) l.getClass().getMethod("groupId").invoke(l);
            if (id.equals(group)) {
                found = true;
                Object type = l.getClass().getMethod("type").invoke(l);
                checkEq("Optional[Classic]", String.valueOf(type), "listGroups type of " + group);
            }
        }
        check(found, "listGroups lacks " + group + ": " + listings);
    }

    static void adminDeleteRecords() throws Exception {
        String topic = unique("delete-records");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin a = admin()) {
            createTopic(a, topic, 1);
            produceValues(topic, 0, numbered("d", 20), null, 0);
            long low = a.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(10))).lowWatermarks().get(tp).get()
                    .lowWatermark();
            checkEq(10L, low, "low watermark after deleteRecords(10)");
            checkEq(10L, a.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get().offset(),
                    "earliest after deleteRecords");
            checkEq(numbered("d", 20).subList(10, 20), values(readAll(List.of(tp), "read_uncommitted")),
                    "records after deleteRecords");
            // -1 deletes up to the high watermark.
            low = a.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(-1))).lowWatermarks().get(tp).get()
                    .lowWatermark();
            checkEq(20L, low, "low watermark after deleteRecords(-1)");
            try {
                a.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(50))).all().get();
                throw new AssertionError("deleteRecords beyond the high watermark succeeded");
            } catch (ExecutionException e) {
                checkEq("OffsetOutOfRangeException", e.getCause().getClass().getSimpleName(),
                        "deleteRecords(50): " + describe(e));
            }
        }
    }

    static void adminClusterLogDirs() throws Exception {
        String topic = unique("log-dirs");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin a = admin()) {
            createTopic(a, topic, 1);
            produceValues(topic, 0, numbered("l", 10), null, 0);
            DescribeClusterResult c = a.describeCluster();
            Collection<Node> nodes = c.nodes().get();
            checkEq(1, nodes.size(), "nodes");
            Node node = nodes.iterator().next();
            String clusterId = c.clusterId().get();
            check(clusterId != null && !clusterId.isEmpty(), "cluster id " + clusterId);
            Node controller = c.controller().get();
            check(controller != null && controller.id() == node.id(), "controller " + controller);
            checkEq(bootstrap.substring(bootstrap.lastIndexOf(':') + 1), Integer.toString(node.port()), "node port");

            Map<Integer, Map<String, LogDirDescription>> dirs = a.describeLogDirs(List.of(node.id()))
                    .allDescriptions().get();
            Map<String, LogDirDescription> mine = dirs.get(node.id());
            check(mine != null && !mine.isEmpty(), "describeLogDirs: " + dirs);
            ReplicaInfo info = null;
            for (LogDirDescription ld : mine.values()) {
                check(ld.error() == null, "log dir error " + ld.error());
                if (ld.replicaInfos().containsKey(tp)) {
                    info = ld.replicaInfos().get(tp);
                }
            }
            check(info != null, "describeLogDirs lacks " + tp + ": " + mine);
            check(info.size() > 0, "replica size " + info.size());
        }
    }

    static void adminListOffsets() throws Exception {
        String topic = unique("list-offsets");
        TopicPartition tp = new TopicPartition(topic, 0);
        long base = System.currentTimeMillis() - 60_000;
        try (Admin a = admin()) {
            createTopic(a, topic, 1);
            try (KafkaProducer<String, String> p = new KafkaProducer<>(producerProps())) {
                p.send(new ProducerRecord<>(topic, 0, base, "k", "r0"));
                p.send(new ProducerRecord<>(topic, 0, base + 5000, "k", "r1-max"));
                p.send(new ProducerRecord<>(topic, 0, base + 1000, "k", "r2"));
                p.flush();
            }
            ListOffsetsResult.ListOffsetsResultInfo e =
                    a.listOffsets(Map.of(tp, OffsetSpec.earliest())).partitionResult(tp).get();
            checkEq(0L, e.offset(), "earliest");
            checkEq(3L, a.listOffsets(Map.of(tp, OffsetSpec.latest())).partitionResult(tp).get().offset(),
                    "latest");
            ListOffsetsResult.ListOffsetsResultInfo max =
                    a.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).partitionResult(tp).get();
            checkEq(1L, max.offset(), "max-timestamp offset");
            checkEq(base + 5000, max.timestamp(), "max-timestamp timestamp");
            ListOffsetsResult.ListOffsetsResultInfo t =
                    a.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(base + 500))).partitionResult(tp).get();
            checkEq(1L, t.offset(), "forTimestamp(base+0.5s)");
            checkEq(base + 5000, t.timestamp(), "forTimestamp(base+0.5s) timestamp");
        }
    }

    static void adminTransactions() throws Exception {
        String topic = unique("admin-txn");
        String tid = unique("admin-txn-id");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin a = admin(); KafkaProducer<String, String> p = new KafkaProducer<>(txnProducerProps(tid))) {
            createTopic(a, topic, 1);
            produceValues(topic, 0, numbered("before", 2), null, 0);
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, 0, "k", "in-txn")).get();

            DescribeProducersResult.PartitionProducerState ps = a.describeProducers(List.of(tp)).partitionResult(tp)
                    .get();
            List<ProducerState> open = ps.activeProducers().stream()
                    .filter(s -> s.currentTransactionStartOffset().isPresent()).collect(Collectors.toList());
            checkEq(1, open.size(), "producers with an open transaction: " + ps.activeProducers());
            ProducerState st = open.get(0);
            checkEq(2L, st.currentTransactionStartOffset().getAsLong(), "transaction start offset");
            checkEq(2L, st.lastSequence() >= 0 ? 2L : -1L, "last sequence present");

            Collection<TransactionListing> txns = a.listTransactions().all().get();
            TransactionListing l = txns.stream().filter(x -> x.transactionalId().equals(tid)).findFirst()
                    .orElseThrow(() -> new AssertionError("listTransactions lacks " + tid + ": " + txns));
            checkEq(TransactionState.ONGOING, l.state(), "listed state");
            checkEq(st.producerId(), l.producerId(), "listed producer id");

            TransactionDescription d = a.describeTransactions(List.of(tid)).description(tid).get();
            checkEq(TransactionState.ONGOING, d.state(), "described state");
            checkEq(st.producerId(), d.producerId(), "described producer id");
            checkEq(Set.of(tp), d.topicPartitions(), "described partitions");
            check(d.transactionStartTimeMs().isPresent(), "transaction start time");
            checkEq(30000L, (long) d.transactionTimeoutMs(), "transaction timeout");

            p.commitTransaction();
            // Kafka writes the markers after answering EndTxn, so PrepareCommit may show
            // for a moment; Skiff answers once they are written.
            TransactionDescription after = await("the transaction to complete", () -> {
                try {
                    TransactionDescription x = a.describeTransactions(List.of(tid)).description(tid).get();
                    return x.state() == TransactionState.PREPARE_COMMIT ? null : x;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            check(after.state() == TransactionState.COMPLETE_COMMIT || after.state() == TransactionState.EMPTY,
                    "state after commit " + after.state());
            check(after.topicPartitions().isEmpty(), "partitions after commit " + after.topicPartitions());
            await("the producer's open transaction to disappear from describeProducers", () -> {
                try {
                    List<ProducerState> s = a.describeProducers(List.of(tp)).partitionResult(tp).get()
                            .activeProducers();
                    return s.stream().anyMatch(x -> x.currentTransactionStartOffset().isPresent()) ? null : s;
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
            Collection<TransactionListing> ongoing = a.listTransactions(
                    new org.apache.kafka.clients.admin.ListTransactionsOptions()
                            .filterStates(List.of(TransactionState.ONGOING))).all().get();
            check(ongoing.stream().noneMatch(x -> x.transactionalId().equals(tid)),
                    "committed transaction listed as ongoing");
        }
    }

    // ------------------------------------------------------------------
    // Transaction scenarios
    // ------------------------------------------------------------------

    static void txnConsumeTransformProduce() throws Exception {
        String in = unique("ctp-in");
        String out = unique("ctp-out");
        String group = unique("ctp-group");
        String tid = unique("ctp-txn");
        List<TopicPartition> inTps = partitions(in, 2);
        try (Admin a = admin()) {
            createTopic(a, in, 2);
            createTopic(a, out, 1);
            produceValues(in, 0, numbered("p0-", 20), null, 0);
            produceValues(in, 1, numbered("p1-", 20), null, 0);

            Properties cp = consumerProps(group);
            cp.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
            cp.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "7");
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(cp);
                 KafkaProducer<String, String> p = new KafkaProducer<>(txnProducerProps(tid))) {
                p.initTransactions();
                c.subscribe(List.of(in));
                int processed = 0;
                boolean abortedOnce = false;
                long deadline = System.nanoTime() + WAIT.toNanos();
                while (processed < 40) {
                    check(System.nanoTime() < deadline, "consume-transform-produce processed only " + processed);
                    ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(200));
                    if (recs.isEmpty()) {
                        continue;
                    }
                    Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                    Map<TopicPartition, Long> firsts = new HashMap<>();
                    p.beginTransaction();
                    for (ConsumerRecord<String, String> r : recs) {
                        p.send(new ProducerRecord<>(out, 0, r.key(), r.value().toUpperCase()));
                        TopicPartition tp = new TopicPartition(r.topic(), r.partition());
                        offsets.put(tp, new OffsetAndMetadata(r.offset() + 1));
                        firsts.putIfAbsent(tp, r.offset());
                    }
                    p.sendOffsetsToTransaction(offsets, c.groupMetadata());
                    if (!abortedOnce) {
                        // The first batch is aborted: neither its output nor its offsets may stick,
                        // and the loop rewinds to reprocess it.
                        abortedOnce = true;
                        p.flush();
                        p.abortTransaction();
                        Map<TopicPartition, OffsetAndMetadata> committed = a.listConsumerGroupOffsets(group)
                                .partitionsToOffsetAndMetadata().get();
                        check(committed.values().stream().allMatch(o -> o == null),
                                "offsets committed by an aborted transaction: " + committed);
                        firsts.forEach(c::seek);
                        continue;
                    }
                    p.commitTransaction();
                    processed += recs.count();
                }
                checkEq(40, processed, "records processed");
            }
            Map<TopicPartition, OffsetAndMetadata> committed = a.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get();
            checkEq(20L, committed.get(inTps.get(0)).offset(), "group offset p0");
            checkEq(20L, committed.get(inTps.get(1)).offset(), "group offset p1");
        }
        List<String> output = values(readAll(List.of(new TopicPartition(out, 0)), "read_committed"));
        checkEq(40, output.size(), "committed output records: " + output);
        List<String> fromP0 = output.stream().filter(v -> v.startsWith("P0-")).collect(Collectors.toList());
        List<String> fromP1 = output.stream().filter(v -> v.startsWith("P1-")).collect(Collectors.toList());
        checkEq(numbered("P0-", 20), fromP0, "output from p0, in order, exactly once");
        checkEq(numbered("P1-", 20), fromP1, "output from p1, in order, exactly once");
        List<String> all = values(readAll(List.of(new TopicPartition(out, 0)), "read_uncommitted"));
        check(all.size() > 40, "read_uncommitted should also see the aborted batch: " + all.size());
    }

    static void txnFencing() throws Exception {
        String topic = unique("fencing");
        String tid = unique("fencing-txn");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin a = admin()) {
            createTopic(a, topic, 1);
        }
        KafkaProducer<String, String> first = new KafkaProducer<>(txnProducerProps(tid));
        try {
            first.initTransactions();
            first.beginTransaction();
            first.send(new ProducerRecord<>(topic, 0, "k", "from-first")).get();
            try (KafkaProducer<String, String> second = new KafkaProducer<>(txnProducerProps(tid))) {
                // Fences the first producer and aborts its open transaction.
                second.initTransactions();
                Throwable fenced = null;
                try {
                    first.send(new ProducerRecord<>(topic, 0, "k", "first-after-fence")).get();
                    first.commitTransaction();
                } catch (Exception e) {
                    fenced = e;
                }
                check(fenced != null, "the fenced producer committed");
                check(rootOf(fenced, ProducerFencedException.class, InvalidProducerEpochException.class) != null,
                        "the fenced producer got " + describe(fenced)
                                + " (want ProducerFencedException or InvalidProducerEpochException)");
                second.beginTransaction();
                second.send(new ProducerRecord<>(topic, 0, "k", "from-second"));
                second.commitTransaction();
            }
        } finally {
            first.close(Duration.ofSeconds(5));
        }
        checkEq(List.of("from-second"), values(readAll(List.of(tp), "read_committed")), "read_committed after fencing");
        List<String> all = values(readAll(List.of(tp), "read_uncommitted"));
        check(all.contains("from-first") && all.contains("from-second") && !all.contains("first-after-fence"),
                "read_uncommitted after fencing: " + all);
    }

    static void txnAbortVisibility() throws Exception {
        String topic = unique("abort");
        String tid = unique("abort-txn");
        List<TopicPartition> tps = partitions(topic, 2);
        try (Admin a = admin()) {
            createTopic(a, topic, 2);
        }
        try (KafkaProducer<String, String> p = new KafkaProducer<>(txnProducerProps(tid))) {
            p.initTransactions();
            for (int round = 0; round < 3; round++) {
                p.beginTransaction();
                for (int i = 0; i < 10; i++) {
                    p.send(new ProducerRecord<>(topic, i % 2, "k", "r" + round + "-" + i));
                }
                if (round == 1) {
                    // Without the flush the client would drop the unsent batches itself
                    // and the broker would have nothing to abort.
                    p.flush();
                    p.abortTransaction();
                } else {
                    p.commitTransaction();
                }
            }
        }
        List<String> committed = values(readAll(tps, "read_committed"));
        Set<String> want = new HashSet<>();
        for (int round : new int[] {0, 2}) {
            for (int i = 0; i < 10; i++) {
                want.add("r" + round + "-" + i);
            }
        }
        checkEq(20, committed.size(), "read_committed record count: " + committed);
        checkEq(want, new HashSet<>(committed), "read_committed records");
        List<String> all = values(readAll(tps, "read_uncommitted"));
        checkEq(30, all.size(), "read_uncommitted record count (aborted records included): " + all);
    }
}
