package dev.skiff.compat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.SubscriptionPattern;
import org.apache.kafka.common.TopicPartition;

/**
 * More KIP-848 ({@code group.protocol=consumer}) cases with the stock Java
 * client (4.x), beside {@code JavaClientCompat.consumerProtocolKip848}. The
 * argument names the scenario:
 *
 * <ul>
 * <li>{@code three-members}: three members split 6 partitions disjointly and
 *     cover them, every record consumed; one closes and the other two take its
 *     partitions well before the session timeout (45 s);</li>
 * <li>{@code new-partition}: Admin createPartitions on the subscribed topic:
 *     the new partition is assigned to a member and its records consumed;</li>
 * <li>{@code regex}: members subscribed with a {@link SubscriptionPattern}
 *     (resolved by the broker, RE2J) pick up a matching topic created later,
 *     and never a topic that does not match;</li>
 * <li>{@code restart}: two members consume and commit, then write
 *     {@code $SKIFF_RESTART_DIR/stop} and keep polling while the driver
 *     restarts the broker on the same data dir and port and writes
 *     {@code started}; afterwards they consume new records without any
 *     duplicate, and the Admin shows the same member ids with the same member
 *     epochs and the same group epoch (no full rejoin).</li>
 * </ul>
 *
 * In every poll round the members' own assignments must be disjoint: a
 * partition is never owned by two members at once. Prints one PASS/FAIL line
 * for the driver (compat-tests/java_kip848.rs) and checks the client log as
 * {@link JavaClientCompat} does.
 */
public final class Kip848Groups {
    static final Duration POLL = Duration.ofMillis(100);

    public static void main(String[] args) throws Exception {
        String bootstrap = System.getenv("SKIFF_BOOTSTRAP");
        if (bootstrap == null || bootstrap.isBlank() || args.length != 1) {
            System.out.println("FAIL setup: SKIFF_BOOTSTRAP and one scenario argument are needed");
            System.exit(2);
        }
        // Before any Kafka class logs (see JavaClientCompat.main).
        String logFile = System.getenv("SKIFF_JAVA_CLIENT_LOG");
        Path log = logFile != null && !logFile.isBlank()
                ? Path.of(logFile)
                : Files.createTempFile("skiff-java-kip848-", ".log");
        System.setProperty("org.slf4j.simpleLogger.logFile", log.toString());
        JavaClientCompat.bootstrap = bootstrap;
        String scenario = args[0];
        boolean ok;
        long start = System.nanoTime();
        try {
            switch (scenario) {
                case "three-members" -> threeMembers();
                case "new-partition" -> newPartition();
                case "regex" -> regex();
                case "restart" -> restart();
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
            System.out.printf("PASS kip848-%s (%d ms)%n", scenario, (System.nanoTime() - start) / 1_000_000);
            ok = true;
        } catch (Throwable t) {
            System.out.println("FAIL kip848-" + scenario + ": " + JavaClientCompat.describe(t));
            t.printStackTrace(System.err);
            ok = false;
        }
        ok &= JavaClientCompat.checkClientLog(log);
        System.out.flush();
        System.exit(ok ? 0 : 1);
    }

    /** Members polled round-robin; records and a duplicate count kept across rounds. */
    static final class Members implements AutoCloseable {
        final List<KafkaConsumer<String, String>> live = new ArrayList<>();
        /** Every value delivered, with how many times. */
        final Map<String, Integer> seen = new HashMap<>();

        Members(String group, int n) {
            for (int i = 0; i < n; i++) {
                live.add(new KafkaConsumer<>(JavaClientCompat.kip848Props(group)));
            }
        }

        /** One poll of every member; fails when two own one partition. */
        void round() {
            for (KafkaConsumer<String, String> c : live) {
                for (ConsumerRecord<String, String> r : c.poll(POLL)) {
                    seen.merge(r.value(), 1, Integer::sum);
                }
            }
            Set<TopicPartition> owned = new HashSet<>();
            for (KafkaConsumer<String, String> c : live) {
                for (TopicPartition tp : c.assignment()) {
                    JavaClientCompat.check(owned.add(tp), tp + " is owned by two members: " + assignments());
                }
            }
        }

        List<Set<TopicPartition>> assignments() {
            List<Set<TopicPartition>> l = new ArrayList<>();
            for (KafkaConsumer<String, String> c : live) {
                l.add(c.assignment());
            }
            return l;
        }

        /** Every member owns something and together exactly {@code all}. */
        boolean split(Set<TopicPartition> all) {
            Set<TopicPartition> union = new HashSet<>();
            for (Set<TopicPartition> a : assignments()) {
                if (a.isEmpty()) {
                    return false;
                }
                union.addAll(a);
            }
            return union.equals(all);
        }

        boolean seenAll(List<String> values) {
            return seen.keySet().containsAll(values);
        }

        void commitAll() {
            for (KafkaConsumer<String, String> c : live) {
                c.commitSync();
            }
        }

        /** Rounds until {@code cond} holds, within JavaClientCompat.WAIT. */
        void until(String what, java.util.function.BooleanSupplier cond) throws InterruptedException {
            try {
                JavaClientCompat.await(what, () -> {
                    round();
                    return cond.getAsBoolean() ? true : null;
                });
            } catch (AssertionError e) {
                throw new AssertionError(e.getMessage() + "; assignments " + assignments()
                        + ", " + seen.size() + " distinct records seen");
            }
        }

        @Override
        public void close() {
            for (KafkaConsumer<String, String> c : live) {
                c.close();
            }
        }
    }

    static Set<TopicPartition> partitions(String topic, int n) {
        Set<TopicPartition> s = new HashSet<>();
        for (int p = 0; p < n; p++) {
            s.add(new TopicPartition(topic, p));
        }
        return s;
    }

    /** Produces {@code perPartition} values "{prefix}p{p}-{i}" to each partition; returns them. */
    static List<String> produce(String topic, int from, int to, String prefix, int perPartition) throws Exception {
        List<String> all = new ArrayList<>();
        for (int p = from; p < to; p++) {
            List<String> v = JavaClientCompat.numbered(prefix + "p" + p + "-", perPartition);
            JavaClientCompat.produceValues(topic, p, v, null, 0);
            all.addAll(v);
        }
        return all;
    }

    static void threeMembers() throws Exception {
        String topic = JavaClientCompat.unique("kip848-three");
        String group = JavaClientCompat.unique("kip848-three-group");
        try (Admin a = JavaClientCompat.admin()) {
            JavaClientCompat.createTopic(a, topic, 6);
        }
        List<String> first = produce(topic, 0, 6, "a", 10);
        Set<TopicPartition> all = partitions(topic, 6);
        try (Members m = new Members(group, 3)) {
            for (KafkaConsumer<String, String> c : m.live) {
                c.subscribe(List.of(topic));
            }
            m.until("three members splitting 6 partitions and all 60 records consumed",
                    () -> m.split(all) && m.seenAll(first));
            m.commitAll();
            try (Admin a = JavaClientCompat.admin()) {
                ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get().get(group);
                JavaClientCompat.checkEq(3, d.members().size(), "members");
            }
            KafkaConsumer<String, String> leaving = m.live.remove(2);
            leaving.close();
            long closed = System.nanoTime();
            List<String> second = produce(topic, 0, 6, "b", 5);
            m.until("the two remaining members taking over all 6 partitions and the new records",
                    () -> m.split(all) && m.seenAll(second));
            long tookMs = (System.nanoTime() - closed) / 1_000_000;
            // The session timeout is 45 s: a takeover this fast came from the leave.
            JavaClientCompat.check(tookMs < 15_000, "takeover took " + tookMs + " ms");
            System.out.println("three-members: takeover after a leave in " + tookMs + " ms");
        }
    }

    static void newPartition() throws Exception {
        String topic = JavaClientCompat.unique("kip848-newpart");
        String group = JavaClientCompat.unique("kip848-newpart-group");
        try (Admin a = JavaClientCompat.admin()) {
            JavaClientCompat.createTopic(a, topic, 2);
        }
        List<String> first = produce(topic, 0, 2, "a", 5);
        try (Members m = new Members(group, 2)) {
            for (KafkaConsumer<String, String> c : m.live) {
                c.subscribe(List.of(topic));
            }
            m.until("two members splitting 2 partitions", () -> m.split(partitions(topic, 2)) && m.seenAll(first));
            try (Admin a = JavaClientCompat.admin()) {
                a.createPartitions(Map.of(topic, NewPartitions.increaseTo(3))).all().get();
            }
            List<String> added = produce(topic, 2, 3, "new", 7);
            Set<TopicPartition> all = partitions(topic, 3);
            m.until("partition 2 assigned and its 7 records consumed",
                    () -> m.split(all) && m.seenAll(added));
        }
    }

    static void regex() throws Exception {
        String prefix = JavaClientCompat.unique("kip848re");
        String group = JavaClientCompat.unique("kip848re-group");
        String a1 = prefix + "-a";
        String b1 = prefix + "-b";
        String other = prefix + "x"; // does not match "prefix-.*"
        try (Admin a = JavaClientCompat.admin()) {
            JavaClientCompat.createTopic(a, a1, 2);
            JavaClientCompat.createTopic(a, other, 2);
        }
        List<String> first = produce(a1, 0, 2, "a", 5);
        produce(other, 0, 2, "other", 3);
        // Dots and dashes in the prefix: quote it, as a caller naming a literal prefix would.
        SubscriptionPattern pattern = new SubscriptionPattern(java.util.regex.Pattern.quote(prefix) + "-.*");
        try (Members m = new Members(group, 2)) {
            for (KafkaConsumer<String, String> c : m.live) {
                c.subscribe(pattern);
            }
            m.until("two members splitting the matching topic's 2 partitions", () -> m.split(partitions(a1, 2))
                    && m.seenAll(first));
            try (Admin a = JavaClientCompat.admin()) {
                JavaClientCompat.createTopic(a, b1, 2);
            }
            List<String> later = produce(b1, 0, 2, "b", 6);
            Set<TopicPartition> all = partitions(a1, 2);
            all.addAll(partitions(b1, 2));
            m.until("the topic created later assigned and its 12 records consumed",
                    () -> m.split(all) && m.seenAll(later));
            for (String v : m.seen.keySet()) {
                JavaClientCompat.check(!v.startsWith("other"), "a record of the non-matching topic: " + v);
            }
        }
    }

    /** Member id to member epoch, and the group epoch (key ""), from the Admin. */
    static Map<String, Integer> epochs(String group) throws Exception {
        try (Admin a = JavaClientCompat.admin()) {
            ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get().get(group);
            Map<String, Integer> m = new TreeMap<>();
            m.put("", d.groupEpoch().orElse(-1));
            for (MemberDescription md : d.members()) {
                m.put(md.consumerId(), md.memberEpoch().orElse(-1));
            }
            return m;
        }
    }

    static boolean stable(String group) {
        try (Admin a = JavaClientCompat.admin()) {
            ConsumerGroupDescription d = a.describeConsumerGroups(List.of(group)).all().get().get(group);
            return d.groupState().name().equals("STABLE");
        } catch (Exception e) {
            return false;
        }
    }

    static void restart() throws Exception {
        Path dir = Path.of(System.getenv("SKIFF_RESTART_DIR"));
        String topic = JavaClientCompat.unique("kip848-restart");
        String group = JavaClientCompat.unique("kip848-restart-group");
        try (Admin a = JavaClientCompat.admin()) {
            JavaClientCompat.createTopic(a, topic, 4);
        }
        Set<TopicPartition> all = partitions(topic, 4);
        try (Members m = new Members(group, 2)) {
            for (KafkaConsumer<String, String> c : m.live) {
                c.subscribe(List.of(topic));
            }
            // Produced once the members split the partitions: records a
            // first member read before a second one joined would be read
            // again by the second (nothing committed them), as on Kafka.
            m.until("two members splitting 4 partitions", () -> m.split(all));
            List<String> first = produce(topic, 0, 4, "a", 10);
            m.until("all 40 records consumed", () -> m.split(all) && m.seenAll(first));
            m.commitAll();
            m.until("the group Stable (every member reconciled)", () -> stable(group));
            Map<String, Integer> before = epochs(group);
            JavaClientCompat.checkEq(3, before.size(), "group epoch and two members");
            System.out.println("restart: epochs before " + before);
            Files.writeString(dir.resolve("stop"), "stop");
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            // Keep polling (as an application would) through the restart.
            while (!Files.exists(dir.resolve("started"))) {
                JavaClientCompat.check(System.nanoTime() < deadline, "the driver did not restart the broker in 60 s");
                m.round();
            }
            List<String> second = produce(topic, 0, 4, "b", 10);
            m.until("both members consuming the 40 records produced after the restart",
                    () -> m.split(all) && m.seenAll(second));
            m.commitAll();
            m.until("the group Stable after the restart", () -> stable(group));
            Map<String, Integer> after = epochs(group);
            System.out.println("restart: epochs after " + after);
            JavaClientCompat.checkEq(before, after, "group epoch and member epochs across the restart");
            Map<String, Integer> dups = new TreeMap<>();
            m.seen.forEach((v, n) -> {
                if (n > 1) {
                    dups.put(v, n);
                }
            });
            JavaClientCompat.checkEq(Map.of(), dups, "records delivered more than once");
            JavaClientCompat.checkEq(80, m.seen.size(), "records delivered");
        }
    }
}
