// sarama 1.22 against Skiff: the legacy client of issue 11. Its offset
// manager commits with OffsetCommit v1 whatever config.Version says (v1
// carries a per-partition commit timestamp); Kafka 4.x removed that version
// (KIP-896) and Skiff used to close the connection, so the group consumer
// failed with EOF on close. Prints "PASS <name>" / "FAIL <name>: reason".
package main

import (
	"context"
	"fmt"
	"log"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/Shopify/sarama"
)

var failed bool

func check(name string, err error) {
	if err != nil {
		failed = true
		fmt.Printf("FAIL %s: %v\n", name, err)
	} else {
		fmt.Printf("PASS %s\n", name)
	}
}

func unique(prefix string) string {
	return fmt.Sprintf("%s-%d-%d", prefix, os.Getpid(), time.Now().UnixNano())
}

type handler struct{ got chan *sarama.ConsumerMessage }

func (h handler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h handler) Cleanup(sarama.ConsumerGroupSession) error { return nil }
func (h handler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for m := range claim.Messages() {
		sess.MarkMessage(m, "")
		h.got <- m
	}
	return nil
}

// committed sums the next offsets a fresh offset manager (the default
// config: Version 0.8.2, OffsetFetch v1) reads for the group, per partition.
func committed(brokers []string, group, topic string, partitions int32) ([]int64, error) {
	client, err := sarama.NewClient(brokers, sarama.NewConfig())
	if err != nil {
		return nil, err
	}
	defer client.Close()
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		return nil, err
	}
	defer om.Close()
	var out []int64
	for p := int32(0); p < partitions; p++ {
		pom, err := om.ManagePartition(topic, p)
		if err != nil {
			return nil, err
		}
		next, _ := pom.NextOffset()
		pom.AsyncClose()
		out = append(out, next)
	}
	return out, nil
}

// groupConsumer: admin create, sync produce, a consumer group that reads
// everything, marks it and closes (the close commits with OffsetCommit v1).
func groupConsumer(brokers []string) error {
	topic, group := unique("sarama-t"), unique("sarama-g")
	config := sarama.NewConfig()
	config.ClientID = "skiff-sarama"
	config.Version = sarama.V2_1_0_0 // consumer groups need >= 0.10.2
	config.Producer.Return.Successes = true
	config.Consumer.Offsets.Initial = sarama.OffsetOldest
	config.Consumer.Return.Errors = true

	admin, err := sarama.NewClusterAdmin(brokers, config)
	if err != nil {
		return fmt.Errorf("cluster admin: %w", err)
	}
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	admin.Close()

	producer, err := sarama.NewSyncProducer(brokers, config)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	const n = 10
	for i := 0; i < n; i++ {
		if _, _, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Value: sarama.StringEncoder(fmt.Sprintf("v%d", i))}); err != nil {
			return fmt.Errorf("send: %w", err)
		}
	}
	producer.Close()

	cg, err := sarama.NewConsumerGroup(brokers, group, config)
	if err != nil {
		return fmt.Errorf("consumer group: %w", err)
	}
	var errs []string
	var mu sync.Mutex
	go func() {
		for e := range cg.Errors() {
			mu.Lock()
			errs = append(errs, e.Error())
			mu.Unlock()
		}
	}()
	ctx, cancel := context.WithCancel(context.Background())
	h := handler{got: make(chan *sarama.ConsumerMessage, 100)}
	done := make(chan error, 1)
	go func() { done <- cg.Consume(ctx, []string{topic}, h) }()
	seen := map[string]bool{}
	deadline := time.After(30 * time.Second)
	for len(seen) < n {
		select {
		case m := <-h.got:
			seen[string(m.Value)] = true
		case err := <-done:
			cancel()
			return fmt.Errorf("consume ended after %d messages: %v", len(seen), err)
		case <-deadline:
			cancel()
			return fmt.Errorf("only %d of %d messages within 30s", len(seen), n)
		}
	}
	cancel()
	if err := <-done; err != nil {
		return fmt.Errorf("consume: %w", err)
	}
	if err := cg.Close(); err != nil {
		return fmt.Errorf("close: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(errs) > 0 {
		return fmt.Errorf("consumer group errors: %s", strings.Join(errs, "; "))
	}
	next, err := committed(brokers, group, topic, 2)
	if err != nil {
		return fmt.Errorf("read commits: %w", err)
	}
	if next[0]+next[1] != n {
		return fmt.Errorf("committed next offsets %v, want them to sum to %d", next, n)
	}
	return nil
}

// offsetManagerDefaults: the default config (Version 0.8.2) marks an offset
// with metadata; the commit (OffsetCommit v1) is read back by a new manager.
func offsetManagerDefaults(brokers []string) error {
	topic, group := unique("sarama-om"), unique("sarama-omg")
	config := sarama.NewConfig()
	config.Version = sarama.V2_1_0_0
	admin, err := sarama.NewClusterAdmin(brokers, config)
	if err != nil {
		return fmt.Errorf("cluster admin: %w", err)
	}
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	admin.Close()

	defaults := sarama.NewConfig()
	defaults.Consumer.Offsets.CommitInterval = 100 * time.Millisecond
	client, err := sarama.NewClient(brokers, defaults)
	if err != nil {
		return err
	}
	om, err := sarama.NewOffsetManagerFromClient(group, client)
	if err != nil {
		return err
	}
	pom, err := om.ManagePartition(topic, 0)
	if err != nil {
		return err
	}
	pom.MarkOffset(7, "meta")
	errs := pom.Errors()
	// Wait (bounded) for the periodic commit to land, then close cleanly.
	var last []int64
	for start := time.Now(); time.Since(start) < 20*time.Second; time.Sleep(100 * time.Millisecond) {
		select {
		case e := <-errs:
			return fmt.Errorf("commit error: %v", e)
		default:
		}
		if last, err = committed(brokers, group, topic, 1); err == nil && last[0] == 7 {
			break
		}
	}
	if err := pom.Close(); err != nil {
		return fmt.Errorf("partition offset manager close: %w", err)
	}
	if err := om.Close(); err != nil {
		return fmt.Errorf("offset manager close: %w", err)
	}
	client.Close()
	if len(last) != 1 || last[0] != 7 {
		return fmt.Errorf("committed next offset %v, want 7", last)
	}
	return nil
}

// defaultConfig: sarama 1.22's defaults (Version 0.8.2) produce with
// Produce v0 (message format v0) and consume with Fetch v0, the record
// format versions KIP-896 removed.
func defaultConfig(brokers []string) error {
	topic := unique("sarama-dflt")
	admin, err := sarama.NewClusterAdmin(brokers, func() *sarama.Config {
		c := sarama.NewConfig()
		c.Version = sarama.V2_1_0_0
		return c
	}())
	if err != nil {
		return fmt.Errorf("cluster admin: %w", err)
	}
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 1, ReplicationFactor: 1}, false); err != nil {
		return fmt.Errorf("create topic: %w", err)
	}
	admin.Close()

	config := sarama.NewConfig()
	config.Producer.Return.Successes = true
	producer, err := sarama.NewSyncProducer(brokers, config)
	if err != nil {
		return fmt.Errorf("producer: %w", err)
	}
	const n = 5
	for i := 0; i < n; i++ {
		_, offset, err := producer.SendMessage(&sarama.ProducerMessage{Topic: topic, Key: sarama.StringEncoder("k"), Value: sarama.StringEncoder(fmt.Sprintf("d%d", i))})
		if err != nil {
			return fmt.Errorf("send: %w", err)
		}
		if offset != int64(i) {
			return fmt.Errorf("message %d got offset %d", i, offset)
		}
	}
	producer.Close()

	consumer, err := sarama.NewConsumer(brokers, config)
	if err != nil {
		return fmt.Errorf("consumer: %w", err)
	}
	defer consumer.Close()
	pc, err := consumer.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		return fmt.Errorf("consume partition: %w", err)
	}
	defer pc.Close()
	deadline := time.After(30 * time.Second)
	for i := 0; i < n; i++ {
		select {
		case m := <-pc.Messages():
			if string(m.Value) != fmt.Sprintf("d%d", i) || string(m.Key) != "k" || m.Offset != int64(i) {
				return fmt.Errorf("message %d: offset %d key %q value %q", i, m.Offset, m.Key, m.Value)
			}
		case e := <-pc.Errors():
			return fmt.Errorf("consume: %v", e)
		case <-deadline:
			return fmt.Errorf("only %d of %d messages within 30s", i, n)
		}
	}
	return nil
}

func main() {
	bootstrap := os.Getenv("SKIFF_BOOTSTRAP")
	if bootstrap == "" {
		log.Fatal("SKIFF_BOOTSTRAP is not set")
	}
	brokers := []string{bootstrap}
	if os.Getenv("SARAMA_LOG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.LstdFlags)
	}
	check("group-consumer-commits-on-close", groupConsumer(brokers))
	check("offset-manager-default-config", offsetManagerDefaults(brokers))
	check("default-config-produce-v0-fetch-v0", defaultConfig(brokers))
	if failed {
		os.Exit(1)
	}
}
