package dev.skiff.share;

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

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.ShareGroupDescription;
import org.apache.kafka.clients.admin.ShareMemberDescription;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicIdPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Share groups (KIP-932) with the stock {@code KafkaShareConsumer} against the
 * broker at $SKIFF_BOOTSTRAP. Usage: {@code ShareGroupCompat <scenario> <topic> <group>};
 * prints {@code PASS <scenario>} or {@code FAIL <scenario>: reason} and exits non-zero on failure.
 * Every wait polls for its condition with a deadline.
 */
public final class ShareGroupCompat {
    private static final Duration DEADLINE = Duration.ofSeconds(40);
    private static String bootstrap;

    public static void main(String[] args) throws Exception {
        bootstrap = System.getenv("SKIFF_BOOTSTRAP");
        String scenario = args[0];
        String topic = args[1];
        String group = args[2];
        try {
            switch (scenario) {
                case "two-consumers" -> twoConsumers(topic, group);
                case "release-reject" -> releaseReject(topic, group);
                case "delivery-limit" -> deliveryLimit(topic, group);
                case "lock-expiry" -> lockExpiry(topic, group);
                case "latest-default" -> latestDefault(topic, group);
                case "restart-before" -> restartBefore(topic, group);
                case "restart-after" -> restartAfter(topic, group, 5);
                case "restart-after-kill" -> restartAfter(topic, group, 7);
                case "admin-offsets" -> adminOffsets(topic, group);
                case "tools-hold" -> toolsHold(topic, group);
                default -> throw new IllegalArgumentException("unknown scenario " + scenario);
            }
            System.out.println("PASS " + scenario);
            System.out.flush();
            System.exit(0);
        } catch (Throwable t) {
            System.out.println("FAIL " + scenario + ": " + t);
            t.printStackTrace(System.out);
            System.out.flush();
            System.exit(1);
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    static Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return Admin.create(p);
    }

    /** Creates the topic and makes the group start at the earliest offset. */
    static void setUp(String topic, String group) throws Exception {
        createTopic(topic);
        try (Admin admin = admin()) {
            ConfigResource res = new ConfigResource(ConfigResource.Type.GROUP, group);
            admin.incrementalAlterConfigs(Map.of(res, List.of(new AlterConfigOp(
                new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET))))
                .all().get();
        }
    }

    static void createTopic(String topic) throws Exception {
        try (Admin admin = admin()) {
            try {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
            } catch (java.util.concurrent.ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        }
    }

    /** The share-partition start offset the Admin client lists, or -1 if none is listed. */
    static long listedStart(Admin admin, String group, String topic) throws Exception {
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(topic, 0);
        Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.SharePartitionOffsetInfo> m =
            admin.listShareGroupOffsets(Map.of(group,
                    new org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec().topicPartitions(List.of(tp))))
                .partitionsToOffsetInfo(group).get();
        org.apache.kafka.clients.admin.SharePartitionOffsetInfo info = m.get(tp);
        return info == null ? -1 : info.startOffset();
    }

    /**
     * Admin alterShareGroupOffsets / listShareGroupOffsets / deleteShareGroupOffsets:
     * a consumer starts where the offsets were set; altering a group with a member
     * fails with GroupNotEmptyException; deleted offsets are listed no more.
     */
    static void adminOffsets(String topic, String group) throws Exception {
        createTopic(topic);
        produce(topic, 0, 10);
        org.apache.kafka.common.TopicPartition tp = new org.apache.kafka.common.TopicPartition(topic, 0);
        try (Admin admin = admin()) {
            admin.alterShareGroupOffsets(group, Map.of(tp, 6L)).all().get();
            long start = listedStart(admin, group, topic);
            check(start == 6, "listed start offset after alter: " + start);
            try (KafkaShareConsumer<String, String> c = consumer(topic, group, 10)) {
                List<ConsumerRecord<String, String>> got = pollFor(c, 4);
                check(got.get(0).offset() == 6, "first record after alter: " + got.get(0).offset());
                for (ConsumerRecord<String, String> r : got) {
                    c.acknowledge(r, AcknowledgeType.ACCEPT);
                }
                commit(c);
                try {
                    admin.alterShareGroupOffsets(group, Map.of(tp, 0L)).all().get();
                    throw new AssertionError("alter of a group with a member succeeded");
                } catch (java.util.concurrent.ExecutionException e) {
                    check(e.getCause() instanceof org.apache.kafka.common.errors.GroupNotEmptyException,
                        "alter of a non-empty group: " + e.getCause());
                }
            }
            awaitMembers(group, 0);
            start = listedStart(admin, group, topic);
            check(start == 10, "listed start offset after acknowledging all: " + start);
            admin.deleteShareGroupOffsets(group, Set.of(topic)).all().get();
            start = listedStart(admin, group, topic);
            check(start == -1, "listed start offset after delete: " + start);
        }
    }

    /**
     * For kafka-share-groups.sh (compat-tests/share_tools.rs): one consumer
     * (client.id = the group id) takes every record of the topic's partitions
     * 0 and 1 (`want` in all), accepts all of them except partition 0 offset 0,
     * which it releases, commits, prints {@code HOLDING} and stays in the group
     * without polling until its standard input closes; then it leaves.
     */
    static void toolsHold(String topic, String group) throws Exception {
        setUp(topic, group);
        int want = Integer.parseInt(System.getenv("SKIFF_WANT"));
        Properties p = new Properties();
        p.put("client.id", group);
        try (KafkaShareConsumer<String, String> c = consumer(topic, group, 100, p)) {
            List<ConsumerRecord<String, String>> got = pollFor(c, want);
            for (ConsumerRecord<String, String> r : got) {
                boolean release = r.partition() == 0 && r.offset() == 0;
                c.acknowledge(r, release ? AcknowledgeType.RELEASE : AcknowledgeType.ACCEPT);
                System.out.println("CONSUMED " + r.partition() + " " + r.offset());
            }
            commit(c);
            System.out.println("HOLDING");
            System.out.flush();
            while (System.in.read() != -1) {
                // Held until the driver closes stdin.
            }
        }
    }

    /**
     * Kafka's default share.auto.offset.reset=latest: a record produced before the
     * group was assigned the partition is skipped, one produced after it (even before
     * the first fetch) is delivered.
     */
    static void latestDefault(String topic, String group) throws Exception {
        createTopic(topic);
        produce(topic, 0, 1);
        try (KafkaShareConsumer<String, String> c = consumer(topic, group, 10)) {
            c.poll(Duration.ofMillis(50));
            awaitMembers(group, 1);
            produce(topic, 1, 1);
            List<ConsumerRecord<String, String>> got = pollFor(c, 1);
            check(got.get(0).offset() == 1, "latest: first record is offset " + got.get(0).offset());
            c.acknowledge(got.get(0), AcknowledgeType.ACCEPT);
            commit(c);
        }
    }

    static void produce(String topic, int from, int count) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p)) {
            for (int i = from; i < from + count; i++) {
                producer.send(new ProducerRecord<>(topic, "k" + i, "v" + i)).get();
            }
        }
    }

    static KafkaShareConsumer<String, String> consumer(String topic, String group, int maxPoll) {
        return consumer(topic, group, maxPoll, new Properties());
    }

    static KafkaShareConsumer<String, String> consumer(String topic, String group, int maxPoll, Properties extra) {
        Properties p = new Properties();
        p.putAll(extra);
        p.put("bootstrap.servers", bootstrap);
        p.put("group.id", group);
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", StringDeserializer.class.getName());
        p.put("share.acknowledgement.mode", "explicit");
        p.put("max.poll.records", Integer.toString(maxPoll));
        KafkaShareConsumer<String, String> c = new KafkaShareConsumer<>(p);
        c.subscribe(List.of(topic));
        return c;
    }

    static short deliveryCount(ConsumerRecord<?, ?> r) {
        Optional<Short> n = r.deliveryCount();
        check(n.isPresent(), "record " + r.offset() + " has no delivery count");
        return n.get();
    }

    static void commit(KafkaShareConsumer<String, String> c) {
        Map<TopicIdPartition, Optional<KafkaException>> result = c.commitSync(Duration.ofSeconds(20));
        for (Map.Entry<TopicIdPartition, Optional<KafkaException>> e : result.entrySet()) {
            check(e.getValue().isEmpty(), "acknowledgement failed for " + e.getKey() + ": " + e.getValue());
        }
    }

    /** Waits until the group has `n` members, every one with an assignment. */
    static void awaitMembers(String group, int n) throws Exception {
        long end = System.nanoTime() + DEADLINE.toNanos();
        String last = "";
        try (Admin admin = admin()) {
            while (System.nanoTime() < end) {
                ShareGroupDescription d = admin.describeShareGroups(List.of(group)).all().get().get(group);
                Collection<ShareMemberDescription> members = d.members();
                last = d.groupState() + " " + members.size() + " members";
                if (members.size() == n
                    && members.stream().allMatch(m -> !m.assignment().topicPartitions().isEmpty())) {
                    return;
                }
                Thread.sleep(100);
            }
        }
        throw new AssertionError("the group did not reach " + n + " assigned members: " + last);
    }

    /** Two consumers on one partition both receive records, and no record is delivered twice. */
    static void twoConsumers(String topic, String group) throws Exception {
        setUp(topic, group);
        int total = 40;
        try (KafkaShareConsumer<String, String> a = consumer(topic, group, 5);
             KafkaShareConsumer<String, String> b = consumer(topic, group, 5)) {
            // Join both before there is anything to take.
            long joinEnd = System.nanoTime() + DEADLINE.toNanos();
            a.poll(Duration.ofMillis(100));
            b.poll(Duration.ofMillis(100));
            awaitMembers(group, 2);
            produce(topic, 0, total);
            Map<Long, String> seen = new HashMap<>();
            int byA = 0;
            int byB = 0;
            while (seen.size() < total && System.nanoTime() < joinEnd + DEADLINE.toNanos()) {
                for (KafkaShareConsumer<String, String> c : List.of(a, b)) {
                    ConsumerRecords<String, String> recs = c.poll(Duration.ofMillis(200));
                    for (ConsumerRecord<String, String> r : recs) {
                        String who = c == a ? "a" : "b";
                        String before = seen.put(r.offset(), who);
                        check(before == null, "offset " + r.offset() + " delivered to " + before + " and " + who);
                        check(deliveryCount(r) == 1, "first delivery has count " + deliveryCount(r));
                        c.acknowledge(r, AcknowledgeType.ACCEPT);
                        if (c == a) {
                            byA++;
                        } else {
                            byB++;
                        }
                    }
                    if (!recs.isEmpty()) {
                        commit(c);
                    }
                }
            }
            check(seen.size() == total, "received " + seen.size() + " of " + total);
            check(byA > 0 && byB > 0, "both consumers receive records: a=" + byA + " b=" + byB);
            System.out.println("a received " + byA + ", b received " + byB);
            try (Admin admin = admin()) {
                Collection<GroupListing> listed = admin.listGroups(
                    new ListGroupsOptions().withTypes(Set.of(GroupType.SHARE))).all().get();
                Optional<GroupListing> mine = listed.stream().filter(g -> g.groupId().equals(group)).findFirst();
                check(mine.isPresent(), "ListGroups(type share) lists " + group + ": " + listed);
                check(mine.get().type().equals(Optional.of(GroupType.SHARE)), "group type " + mine.get().type());
                check(mine.get().protocol().equals("share"), "protocol type " + mine.get().protocol());
                Collection<GroupListing> classic = admin.listGroups(
                    new ListGroupsOptions().withTypes(Set.of(GroupType.CLASSIC))).all().get();
                check(classic.stream().noneMatch(g -> g.groupId().equals(group)), "a share group is not classic");
            }
        }
    }

    /** Polls until `want` records arrive (at most DEADLINE). */
    static List<ConsumerRecord<String, String>> pollFor(KafkaShareConsumer<String, String> c, int want) {
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        long end = System.nanoTime() + DEADLINE.toNanos();
        while (out.size() < want && System.nanoTime() < end) {
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                out.add(r);
            }
        }
        check(out.size() >= want, "received " + out.size() + " of " + want + " records");
        return out;
    }

    /** Released records come back with delivery count 2; rejected ones never do. */
    static void releaseReject(String topic, String group) throws Exception {
        setUp(topic, group);
        produce(topic, 0, 3);
        try (KafkaShareConsumer<String, String> c = consumer(topic, group, 10)) {
            List<ConsumerRecord<String, String>> first = pollFor(c, 3);
            for (ConsumerRecord<String, String> r : first) {
                check(deliveryCount(r) == 1, "offset " + r.offset() + " count " + deliveryCount(r));
                AcknowledgeType t = switch ((int) r.offset()) {
                    case 0 -> AcknowledgeType.ACCEPT;
                    case 1 -> AcknowledgeType.RELEASE;
                    default -> AcknowledgeType.REJECT;
                };
                c.acknowledge(r, t);
            }
            commit(c);
            // A marker after them: the released record comes back before it, the rejected one never.
            produce(topic, 3, 1);
            Set<Long> offsets = new HashSet<>();
            List<ConsumerRecord<String, String>> again = new ArrayList<>();
            long end = System.nanoTime() + DEADLINE.toNanos();
            while (!offsets.contains(3L) && System.nanoTime() < end) {
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) {
                    again.add(r);
                    offsets.add(r.offset());
                    c.acknowledge(r, AcknowledgeType.ACCEPT);
                }
            }
            commit(c);
            check(offsets.equals(Set.of(1L, 3L)), "after release/reject received offsets " + offsets);
            for (ConsumerRecord<String, String> r : again) {
                short want = r.offset() == 1 ? (short) 2 : (short) 1;
                check(deliveryCount(r) == want, "offset " + r.offset() + " count " + deliveryCount(r) + ", want " + want);
            }
        }
    }

    /** With group.share.delivery.count.limit=2 a record released twice is archived. */
    static void deliveryLimit(String topic, String group) throws Exception {
        setUp(topic, group);
        produce(topic, 0, 1);
        try (KafkaShareConsumer<String, String> c = consumer(topic, group, 10)) {
            for (short round = 1; round <= 2; round++) {
                List<ConsumerRecord<String, String>> got = pollFor(c, 1);
                ConsumerRecord<String, String> r = got.get(0);
                check(r.offset() == 0 && deliveryCount(r) == round,
                    "round " + round + ": offset " + r.offset() + " count " + deliveryCount(r));
                c.acknowledge(r, AcknowledgeType.RELEASE);
                commit(c);
            }
            produce(topic, 1, 1);
            List<ConsumerRecord<String, String>> next = pollFor(c, 1);
            check(next.size() == 1 && next.get(0).offset() == 1,
                "after the limit only the marker arrives, got offset " + next.get(0).offset());
            c.acknowledge(next.get(0), AcknowledgeType.ACCEPT);
            commit(c);
        }
    }

    /** A record whose acquisition lock expires goes to another consumer with a higher delivery count. */
    static void lockExpiry(String topic, String group) throws Exception {
        setUp(topic, group);
        produce(topic, 0, 1);
        try (KafkaShareConsumer<String, String> a = consumer(topic, group, 10);
             KafkaShareConsumer<String, String> b = consumer(topic, group, 10)) {
            List<ConsumerRecord<String, String>> held = pollFor(a, 1);
            long acquiredAt = System.nanoTime();
            check(deliveryCount(held.get(0)) == 1, "first delivery count " + deliveryCount(held.get(0)));
            // a never acknowledges; b gets the record once a's lock expired.
            long end = System.nanoTime() + DEADLINE.toNanos();
            ConsumerRecord<String, String> redelivered = null;
            while (redelivered == null && System.nanoTime() < end) {
                for (ConsumerRecord<String, String> r : b.poll(Duration.ofMillis(200))) {
                    redelivered = r;
                    b.acknowledge(r, AcknowledgeType.ACCEPT);
                }
            }
            check(redelivered != null, "the record was not redelivered after its lock expired");
            long waitedMs = (System.nanoTime() - acquiredAt) / 1_000_000;
            check(redelivered.offset() == 0, "redelivered offset " + redelivered.offset());
            check(deliveryCount(redelivered) >= 2, "redelivery count " + deliveryCount(redelivered));
            System.out.println("redelivered after " + waitedMs + " ms");
            commit(b);
        }
    }

    /** Accepts offsets 0..4 and releases nothing, before the broker restarts. */
    static void restartBefore(String topic, String group) throws Exception {
        setUp(topic, group);
        produce(topic, 0, 5);
        try (KafkaShareConsumer<String, String> c = consumer(topic, group, 10)) {
            List<ConsumerRecord<String, String>> got = pollFor(c, 5);
            for (ConsumerRecord<String, String> r : got) {
                c.acknowledge(r, AcknowledgeType.ACCEPT);
            }
            commit(c);
        }
    }

    /** After the restart only new records arrive: the accepted ones are not redelivered. */
    static void restartAfter(String topic, String group, long from) throws Exception {
        produce(topic, (int) from, 2);
        try (KafkaShareConsumer<String, String> c = consumer(topic, group, 10)) {
            List<ConsumerRecord<String, String>> got = pollFor(c, 2);
            Set<Long> offsets = new HashSet<>();
            for (ConsumerRecord<String, String> r : got) {
                offsets.add(r.offset());
                c.acknowledge(r, AcknowledgeType.ACCEPT);
            }
            commit(c);
            check(offsets.equals(Set.of(from, from + 1)), "after the restart received offsets " + offsets);
        }
    }
}
