package dev.skiff.compat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;

/**
 * KIP-848 online migration with the stock Java client (4.x), as Kafka 4.1
 * documents it (group.consumer.migration.policy=bidirectional, the default):
 *
 * <ol>
 * <li>two {@code group.protocol=classic} members share a 6-partition topic
 *     (Admin: type CLASSIC, Stable);</li>
 * <li>two {@code group.protocol=consumer} members join the same group: it is
 *     upgraded (type CONSUMER), the four split the partitions disjointly and
 *     cover them (by their own assignments and by the Admin's view), two are
 *     reported upgraded and two not;</li>
 * <li>the classic members leave: the consumer-protocol members take
 *     everything;</li>
 * <li>a new classic member joins, then both consumer-protocol members leave:
 *     with the last one the group is downgraded (type CLASSIC) and the classic
 *     member gets every partition;</li>
 * <li>it leaves, and a consumer-protocol member joins the empty classic group,
 *     which becomes a consumer group again, and gets every partition.</li>
 * </ol>
 *
 * In every phase ListGroups must agree (type, Stable, protocol type
 * "consumer"); new records are produced and every one must be delivered
 * (no loss), and the committed offsets (auto-commit, and the commit on
 * revocation) must reach the end offsets; after that, no record from before
 * is delivered again, so the offsets committed under one protocol carried over
 * to the members of the other. Prints {@code PASS}/{@code FAIL} lines for
 * the driver (compat-tests/java_client.rs) and checks the client log as
 * {@link JavaClientCompat} does. With the argument {@code cooperative} the
 * classic members use the cooperative-sticky assignor instead of the
 * client's default (range first, eager).
 */
public final class GroupMigration {
    static final int PARTITIONS = 6;
    static final int PER_PARTITION = 10;
    /** Limit for any one wait (a phase settles within a few heartbeats). */
    static final Duration WAIT = Duration.ofSeconds(45);

    static String topic;
    static String group;
    /** The classic members' partition.assignment.strategy (the client's default: range, then cooperative-sticky). */
    static String classicAssignors;
    /** Every delivery of every member, in order: "member value". */
    static final List<String[]> DELIVERIES = java.util.Collections.synchronizedList(new ArrayList<>());

    public static void main(String[] args) throws Exception {
        String bootstrap = System.getenv("SKIFF_BOOTSTRAP");
        if (bootstrap == null || bootstrap.isBlank()) {
            System.out.println("FAIL setup: SKIFF_BOOTSTRAP is not set");
            System.exit(2);
        }
        // Before any Kafka class logs (see JavaClientCompat.main).
        String logFile = System.getenv("SKIFF_JAVA_CLIENT_LOG");
        Path log = logFile != null && !logFile.isBlank()
                ? Path.of(logFile)
                : Files.createTempFile("skiff-java-migration-", ".log");
        System.setProperty("org.slf4j.simpleLogger.logFile", log.toString());
        JavaClientCompat.bootstrap = bootstrap;
        // "cooperative": classic members that keep their partitions across a rejoin and
        // report them as owned (the broker must revoke through the assignment it hands back).
        boolean cooperative = args.length > 0 && args[0].equals("cooperative");
        classicAssignors = cooperative
                ? org.apache.kafka.clients.consumer.CooperativeStickyAssignor.class.getName()
                : null;
        String scenario = cooperative ? "group-migration-cooperative" : "group-migration";
        topic = JavaClientCompat.unique("migration");
        group = JavaClientCompat.unique("migration-group");
        System.out.println("kafka-clients " + org.apache.kafka.common.utils.AppInfoParser.getVersion()
                + " against " + bootstrap + ", topic " + topic + ", group " + group + ", client log " + log);
        boolean ok;
        long start = System.nanoTime();
        try {
            migrate();
            System.out.printf("PASS %s (%d ms)%n", scenario, (System.nanoTime() - start) / 1_000_000);
            ok = true;
        } catch (Throwable t) {
            System.out.println("FAIL " + scenario + ": " + JavaClientCompat.describe(t));
            t.printStackTrace(System.err);
            ok = false;
        }
        ok &= JavaClientCompat.checkClientLog(log);
        System.out.flush();
        System.exit(ok ? 0 : 1);
    }

    static void migrate() throws Exception {
        try (Admin admin = JavaClientCompat.admin()) {
            JavaClientCompat.createTopic(admin, topic, PARTITIONS);
            List<Member> all = new ArrayList<>();
            try {
                // 1. A classic group.
                Member c1 = Member.start("classic-1", "classic", all);
                Member c2 = Member.start("classic-2", "classic", all);
                int mark = phase(admin, "classic", List.of(c1, c2), GroupType.CLASSIC, 0);

                // 2. Upgrade: consumer-protocol members join the running classic group.
                Member m1 = Member.start("consumer-1", "consumer", all);
                Member m2 = Member.start("consumer-2", "consumer", all);
                mark = phase(admin, "upgraded", List.of(c1, c2, m1, m2), GroupType.CONSUMER, mark);
                ConsumerGroupDescription d = describe(admin);
                Map<String, Boolean> upgraded = new TreeMap<>();
                for (MemberDescription md : d.members()) {
                    upgraded.put(md.clientId(), md.upgraded().orElse(null));
                }
                JavaClientCompat.checkEq(
                        Map.of("classic-1", false, "classic-2", false, "consumer-1", true, "consumer-2", true),
                        upgraded, "members' upgraded() by client id");

                // 3. The classic members leave.
                c1.close();
                c2.close();
                mark = phase(admin, "classic members gone", List.of(m1, m2), GroupType.CONSUMER, mark);

                // 4. Downgrade: a classic member joins; when the last consumer-protocol
                // member leaves, the group is classic again and it gets everything.
                Member c3 = Member.start("classic-3", "classic", all);
                mark = phase(admin, "mixed again", List.of(m1, m2, c3), GroupType.CONSUMER, mark);
                m1.close();
                mark = phase(admin, "one consumer-protocol member left", List.of(m2, c3), GroupType.CONSUMER, mark);
                m2.close();
                mark = phase(admin, "downgraded", List.of(c3), GroupType.CLASSIC, mark);

                // 5. The empty classic group becomes a consumer group on a consumer-protocol join.
                c3.close();
                await("the group to be empty", () -> {
                    ConsumerGroupDescription g = describe(admin);
                    return g.groupState() == GroupState.EMPTY && g.members().isEmpty() ? true : null;
                });
                Member m3 = Member.start("consumer-3", "consumer", all);
                phase(admin, "empty classic group upgraded", List.of(m3), GroupType.CONSUMER, mark);
                m3.close();
            } finally {
                for (Member m : all) {
                    m.stopQuietly();
                }
            }
        }
    }

    /**
     * Waits until {@code members} (and only they) split all partitions
     * disjointly, by their own view and the Admin's, the group being of
     * {@code type} and Stable; then produces a batch, waits until every record
     * of it is delivered and the committed offsets are the end offsets. Fails
     * when a record produced before {@code mark} (an index into the
     * deliveries) was delivered again after it. Returns the new mark.
     */
    static int phase(Admin admin, String name, List<Member> members, GroupType type, int mark)
            throws Exception {
        long start = System.nanoTime();
        Set<TopicPartition> all = new HashSet<>(JavaClientCompat.partitions(topic, PARTITIONS));
        await(name + ": " + members.size() + " member(s) to split " + PARTITIONS + " partitions, group "
                + type + " and Stable", () -> {
            for (Member m : members) {
                m.rethrow();
            }
            List<Set<TopicPartition>> own = members.stream().map(Member::assignment).collect(Collectors.toList());
            if (!splits(own, all)) {
                return null;
            }
            ConsumerGroupDescription d = describe(admin);
            if (d.type() != type || d.groupState() != GroupState.STABLE || d.members().size() != members.size()) {
                return null;
            }
            Map<String, Set<TopicPartition>> byClient = new HashMap<>();
            for (MemberDescription md : d.members()) {
                byClient.put(md.clientId(), md.assignment().topicPartitions());
            }
            for (Member m : members) {
                if (!m.assignment().equals(byClient.get(m.name))) {
                    return null;
                }
            }
            // ListGroups (v5: types and states) agrees.
            GroupListing l = listing(admin);
            if (l == null || !l.type().equals(Optional.of(type))
                    || !l.groupState().equals(Optional.of(GroupState.STABLE))
                    || !l.protocol().equals("consumer")) {
                return null;
            }
            return true;
        });
        String tag = name.replace(' ', '_');
        Set<String> sent = produce(tag);
        await(name + ": every record of the batch delivered", () -> {
            Set<String> got = new HashSet<>();
            synchronized (DELIVERIES) {
                for (String[] d : DELIVERIES) {
                    got.add(d[1]);
                }
            }
            return got.containsAll(sent) ? true : null;
        });
        Map<TopicPartition, Long> end = endOffsets(admin);
        await(name + ": committed offsets at the end offsets " + end, () -> {
            Map<TopicPartition, Long> committed = committed(admin);
            return committed.equals(end) ? true : null;
        });
        List<String[]> snapshot;
        synchronized (DELIVERIES) {
            snapshot = new ArrayList<>(DELIVERIES);
        }
        Set<String> before = new HashSet<>();
        for (int i = 0; i < Math.min(mark, snapshot.size()); i++) {
            before.add(snapshot.get(i)[1]);
        }
        List<String> again = new ArrayList<>();
        Map<String, Integer> count = new HashMap<>();
        for (int i = mark; i < snapshot.size(); i++) {
            String[] d = snapshot.get(i);
            if (before.contains(d[1])) {
                again.add(d[0] + ":" + d[1]);
            }
            count.merge(d[1], 1, Integer::sum);
        }
        JavaClientCompat.check(again.isEmpty(), name + ": records committed before were delivered again "
                + "(the committed offsets did not carry over): " + again);
        long duplicates = count.values().stream().filter(c -> c > 1).count();
        // For a side-by-side look at Kafka's answers (not checked: epochs depend on timing).
        ConsumerGroupDescription d = describe(admin);
        System.out.printf("  describe: assignor=%s groupEpoch=%s targetAssignmentEpoch=%s members=%s%n",
                d.partitionAssignor(), d.groupEpoch().orElse(null), d.targetAssignmentEpoch().orElse(null),
                d.members().stream().sorted(java.util.Comparator.comparing(MemberDescription::clientId))
                        .map(md -> md.clientId() + "(epoch=" + md.memberEpoch().orElse(null) + " upgraded="
                                + md.upgraded().orElse(null) + " target="
                                + md.targetAssignment().map(t -> sorted(t.topicPartitions())).orElse(null) + ")")
                        .collect(Collectors.joining(" ")));
        System.out.printf("phase %s: %s, %s, %d records, %d delivered twice, %d ms%n", name, type,
                members.stream().map(m -> m.name + "=" + sorted(m.assignment())).collect(Collectors.joining(" ")),
                sent.size(), duplicates, (System.nanoTime() - start) / 1_000_000);
        return snapshot.size();
    }

    /** Non-empty, pairwise disjoint, and together exactly {@code all}. */
    static boolean splits(List<Set<TopicPartition>> sets, Set<TopicPartition> all) {
        Set<TopicPartition> union = new HashSet<>();
        int total = 0;
        for (Set<TopicPartition> s : sets) {
            if (s.isEmpty()) {
                return false;
            }
            union.addAll(s);
            total += s.size();
        }
        return total == all.size() && union.equals(all);
    }

    static List<Integer> sorted(Collection<TopicPartition> tps) {
        return tps.stream().map(TopicPartition::partition).sorted().collect(Collectors.toList());
    }

    static Set<String> produce(String tag) throws Exception {
        Set<String> sent = new HashSet<>();
        try (KafkaProducer<String, String> p = new KafkaProducer<>(JavaClientCompat.producerProps())) {
            for (int part = 0; part < PARTITIONS; part++) {
                for (int i = 0; i < PER_PARTITION; i++) {
                    String v = tag + "-p" + part + "-" + i;
                    p.send(new ProducerRecord<>(topic, part, "k" + i, v));
                    sent.add(v);
                }
            }
            p.flush();
        }
        return sent;
    }

    static ConsumerGroupDescription describe(Admin admin) {
        try {
            return admin.describeConsumerGroups(List.of(group)).all().get().get(group);
        } catch (Exception e) {
            throw new RuntimeException("describeConsumerGroups " + group, e);
        }
    }

    /** The group in the Admin's listGroups (null when not listed). */
    static GroupListing listing(Admin admin) {
        try {
            return admin.listGroups().all().get().stream()
                    .filter(g -> g.groupId().equals(group)).findFirst().orElse(null);
        } catch (Exception e) {
            throw new RuntimeException("listGroups", e);
        }
    }

    static Map<TopicPartition, Long> endOffsets(Admin admin) throws Exception {
        Map<TopicPartition, OffsetSpec> req = new HashMap<>();
        for (TopicPartition tp : JavaClientCompat.partitions(topic, PARTITIONS)) {
            req.put(tp, OffsetSpec.latest());
        }
        Map<TopicPartition, Long> out = new HashMap<>();
        admin.listOffsets(req).all().get().forEach((tp, info) -> out.put(tp, info.offset()));
        return out;
    }

    static Map<TopicPartition, Long> committed(Admin admin) {
        try {
            Map<TopicPartition, OffsetAndMetadata> m =
                    admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
            Map<TopicPartition, Long> out = new HashMap<>();
            m.forEach((tp, om) -> {
                if (om != null) {
                    out.put(tp, om.offset());
                }
            });
            return out;
        } catch (Exception e) {
            throw new RuntimeException("listConsumerGroupOffsets " + group, e);
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
            Thread.sleep(100);
        }
    }

    /**
     * One group member, polled by a thread of its own (a KafkaConsumer is
     * used by one thread only: created, polled and closed there). Its client
     * id is its name, so the Admin's member list can be matched to it.
     */
    static final class Member {
        final String name;
        final AtomicReference<Set<TopicPartition>> assignment = new AtomicReference<>(Set.of());
        final AtomicReference<Throwable> error = new AtomicReference<>();
        volatile boolean stop;
        Thread thread;

        Member(String name) {
            this.name = name;
        }

        static Member start(String name, String protocol, List<Member> registry) {
            Properties p = JavaClientCompat.consumerProps(null);
            p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
            p.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
            p.put("group.protocol", protocol);
            p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "true");
            p.put(ConsumerConfig.AUTO_COMMIT_INTERVAL_MS_CONFIG, "200");
            if (protocol.equals("classic")) {
                // The consumer protocol takes both from the broker's group.consumer.* keys.
                p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, "10000");
                p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, "300");
                if (classicAssignors != null) {
                    p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, classicAssignors);
                }
            }
            Member m = new Member(name);
            m.thread = new Thread(() -> m.run(p), "member-" + name);
            m.thread.setDaemon(true);
            m.thread.start();
            registry.add(m);
            return m;
        }

        void run(Properties p) {
            try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p)) {
                c.subscribe(List.of(topic));
                while (!stop) {
                    for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(100))) {
                        DELIVERIES.add(new String[] {name, r.value()});
                    }
                    assignment.set(Set.copyOf(c.assignment()));
                }
                // close() commits what was consumed and leaves the group.
            } catch (Throwable t) {
                error.set(t);
            } finally {
                assignment.set(Set.of());
            }
        }

        Set<TopicPartition> assignment() {
            return assignment.get();
        }

        void rethrow() {
            Throwable t = error.get();
            if (t != null) {
                throw new AssertionError("member " + name + " failed: " + JavaClientCompat.describe(t), t);
            }
        }

        /** Leaves the group (the consumer's close), failing if that fails or hangs. */
        void close() throws InterruptedException {
            stop = true;
            thread.join(WAIT.toMillis());
            JavaClientCompat.check(!thread.isAlive(), "member " + name + " did not close within " + WAIT);
            rethrow();
        }

        void stopQuietly() {
            stop = true;
            try {
                thread.join(WAIT.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
