package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func ptr(s string) *string { return &s }

// adminTopics: create (incl. validate-only), list, describe with topic ids,
// metadata/broker listing, create partitions, delete.
func adminTopics(ctx context.Context, t *T) error {
	adm, cl, err := newAdmin()
	if err != nil {
		return err
	}
	defer cl.Close()
	a, b, dry := t.uniq("a"), t.uniq("b"), t.uniq("dry")
	resps, err := adm.CreateTopics(ctx, 2, 1, map[string]*string{"retention.ms": ptr("3600000")}, a, b)
	if err != nil {
		return fmt.Errorf("create topics: %w", err)
	}
	for _, r := range resps.Sorted() {
		if r.Err != nil {
			return fmt.Errorf("create %s: %w %s", r.Topic, r.Err, r.ErrMessage)
		}
		if r.ID == (kadm.TopicID{}) || r.NumPartitions != 2 {
			return fmt.Errorf("create %s answered id %v partitions %d", r.Topic, r.ID, r.NumPartitions)
		}
	}
	for _, tp := range []string{a, b} {
		if err := waitTopicReady(ctx, adm, tp, 2); err != nil {
			return err
		}
	}
	if _, err := adm.CreateTopic(ctx, 1, 1, nil, a); !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("creating %s twice: %v, want TOPIC_ALREADY_EXISTS", a, err)
	}
	if _, err := adm.ValidateCreateTopics(ctx, 1, 1, nil, dry); err != nil {
		return fmt.Errorf("validate-only create: %w", err)
	}

	listed, err := adm.ListTopics(ctx)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	if !listed.Has(a) || !listed.Has(b) {
		return fmt.Errorf("list topics lacks %s or %s", a, b)
	}
	if listed.Has(dry) {
		return fmt.Errorf("validate-only created %s", dry)
	}
	d := listed[a]
	if d.ID != resps[a].ID || len(d.Partitions) != 2 {
		return fmt.Errorf("describe %s: id %v (created %v), %d partitions", a, d.ID, resps[a].ID, len(d.Partitions))
	}
	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return fmt.Errorf("list brokers: %w", err)
	}
	if len(brokers) != 1 {
		return fmt.Errorf("list brokers: %v", brokers)
	}
	for _, p := range d.Partitions {
		if p.Err != nil || p.Leader != brokers[0].NodeID {
			return fmt.Errorf("partition %d leader %d err %v", p.Partition, p.Leader, p.Err)
		}
	}
	meta, err := adm.BrokerMetadata(ctx)
	if err != nil {
		return err
	}
	if meta.Cluster == "" || meta.Controller != brokers[0].NodeID {
		return fmt.Errorf("metadata cluster %q controller %d", meta.Cluster, meta.Controller)
	}

	cp, err := adm.CreatePartitions(ctx, 2, a)
	if err != nil {
		return fmt.Errorf("create partitions: %w", err)
	}
	if cp[a].Err != nil {
		return fmt.Errorf("create partitions: %w %s", cp[a].Err, cp[a].ErrMessage)
	}
	up, err := adm.UpdatePartitions(ctx, 3, a)
	if err != nil {
		return err
	}
	if !errors.Is(up[a].Err, kerr.InvalidPartitions) {
		return fmt.Errorf("shrinking %s from 4 to 3 partitions: %v, want INVALID_PARTITIONS", a, up[a].Err)
	}
	if err := waitUntil(ctx, "4 partitions in metadata", func() (bool, error) {
		ds, err := adm.ListTopics(ctx, a)
		if err != nil {
			return false, err
		}
		return len(ds[a].Partitions) == 4, nil
	}); err != nil {
		return err
	}

	del, err := adm.DeleteTopics(ctx, a, b)
	if err != nil {
		return fmt.Errorf("delete topics: %w", err)
	}
	for _, r := range del.Sorted() {
		if r.Err != nil {
			return fmt.Errorf("delete %s: %w", r.Topic, r.Err)
		}
	}
	return waitUntil(ctx, "deleted topics to vanish", func() (bool, error) {
		l, err := adm.ListTopics(ctx)
		if err != nil {
			return false, err
		}
		return !l.Has(a) && !l.Has(b), nil
	})
}

func configValue(rc kadm.ResourceConfigs, key string) (string, kadm.Config, error) {
	if len(rc) != 1 {
		return "", kadm.Config{}, fmt.Errorf("%d resources described", len(rc))
	}
	if rc[0].Err != nil {
		return "", kadm.Config{}, fmt.Errorf("describe %s: %w %s", rc[0].Name, rc[0].Err, rc[0].ErrMessage)
	}
	for _, c := range rc[0].Configs {
		if c.Key == key {
			if c.Value == nil {
				return "", c, nil
			}
			return *c.Value, c, nil
		}
	}
	return "", kadm.Config{}, fmt.Errorf("config %s missing from %s", key, rc[0].Name)
}

// waitConfigs polls DescribeConfigs until the topic shows the wanted values:
// Kafka applies an alter through its metadata log, so a describe right after
// may still show the old value (Skiff applies it before answering).
func waitConfigs(ctx context.Context, adm *kadm.Client, topic, what string, want map[string]string) error {
	var last string
	err := waitUntil(ctx, what, func() (bool, error) {
		rc, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			return false, err
		}
		for k, w := range want {
			v, _, err := configValue(rc, k)
			if err != nil {
				return false, err
			}
			if v != w {
				last = fmt.Sprintf("%s = %q, want %q", k, v, w)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("%w: %s", err, last)
	}
	return nil
}

// adminConfigs: describe topic and broker configs; incremental alter (set,
// delete) and the legacy whole-set alter.
func adminConfigs(ctx context.Context, t *T) error {
	adm, cl, err := newAdmin()
	if err != nil {
		return err
	}
	defer cl.Close()
	topic := t.uniq("t")
	if err := createTopic(ctx, adm, topic, 1, map[string]*string{"cleanup.policy": ptr("compact")}); err != nil {
		return err
	}
	rc, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return fmt.Errorf("describe topic configs: %w", err)
	}
	if v, c, err := configValue(rc, "cleanup.policy"); err != nil || v != "compact" || c.Source.String() != "DYNAMIC_TOPIC_CONFIG" {
		return fmt.Errorf("cleanup.policy = %q (source %v), err %v", v, c.Source, err)
	}
	if v, c, err := configValue(rc, "retention.ms"); err != nil || v != "604800000" || c.Source.String() != "DEFAULT_CONFIG" {
		return fmt.Errorf("retention.ms = %q (source %v), err %v", v, c.Source, err)
	}

	alt, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{
		{Op: kadm.SetConfig, Name: "retention.ms", Value: ptr("120000")},
		{Op: kadm.DeleteConfig, Name: "cleanup.policy"},
	}, topic)
	if err != nil {
		return fmt.Errorf("incremental alter: %w", err)
	}
	if alt[0].Err != nil {
		return fmt.Errorf("incremental alter: %w %s", alt[0].Err, alt[0].ErrMessage)
	}
	if err := waitConfigs(ctx, adm, topic, "after incremental alter", map[string]string{"retention.ms": "120000", "cleanup.policy": "delete"}); err != nil {
		return err
	}
	bad, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig, Name: "retention.ms", Value: ptr("soon")}}, topic)
	if err != nil {
		return err
	}
	if !errors.Is(bad[0].Err, kerr.InvalidConfig) {
		return fmt.Errorf("retention.ms=soon: %v, want INVALID_CONFIG", bad[0].Err)
	}

	// Legacy AlterConfigs replaces the whole set: retention.ms returns to default.
	st, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "max.message.bytes", Value: ptr("65536")}}, topic)
	if err != nil {
		return fmt.Errorf("alter configs: %w", err)
	}
	if st[0].Err != nil {
		return fmt.Errorf("alter configs: %w %s", st[0].Err, st[0].ErrMessage)
	}
	if err := waitConfigs(ctx, adm, topic, "after whole-set alter", map[string]string{"max.message.bytes": "65536", "retention.ms": "604800000"}); err != nil {
		return err
	}

	brokers, err := adm.ListBrokers(ctx)
	if err != nil {
		return err
	}
	brc, err := adm.DescribeBrokerConfigs(ctx, brokers[0].NodeID)
	if err != nil {
		return fmt.Errorf("describe broker configs: %w", err)
	}
	if len(brc) != 1 || brc[0].Err != nil || len(brc[0].Configs) == 0 {
		return fmt.Errorf("describe broker configs: %+v", brc)
	}
	return nil
}

// adminGroupsOffsets: list/describe groups, fetch, commit and delete group
// offsets, delete a group.
func adminGroupsOffsets(ctx context.Context, t *T) error {
	adm, cl, err := newAdmin()
	if err != nil {
		return err
	}
	defer cl.Close()
	topic, group := t.uniq("t"), t.uniq("g")
	if err := createTopic(ctx, adm, topic, 2, nil); err != nil {
		return err
	}
	if err := produceN(ctx, topic, 2, 10, "r"); err != nil {
		return err
	}
	// A live member, so describe shows it.
	m, err := newMember(topic, group, kgo.CooperativeStickyBalancer())
	if err != nil {
		return err
	}
	defer m.cl.Close()
	if _, err := pollN(ctx, m.cl, 10); err != nil {
		return err
	}
	if err := m.cl.CommitUncommittedOffsets(ctx); err != nil {
		return err
	}
	lg, err := adm.ListGroups(ctx)
	if err != nil {
		return fmt.Errorf("list groups: %w", err)
	}
	if g, ok := lg[group]; !ok || g.ProtocolType != "consumer" {
		return fmt.Errorf("list groups: %s is %+v", group, g)
	}
	if lg, err = adm.ListGroups(ctx, "Stable"); err != nil || len(lg) == 0 {
		return fmt.Errorf("list Stable groups: %v %v", lg, err)
	}
	dg, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return fmt.Errorf("describe groups: %w", err)
	}
	d := dg[group]
	if d.Err != nil || d.State != "Stable" || d.Protocol != "cooperative-sticky" || len(d.Members) != 1 {
		return fmt.Errorf("describe group: state %q protocol %q members %d err %v", d.State, d.Protocol, len(d.Members), d.Err)
	}
	if ca, ok := d.Members[0].Assigned.AsConsumer(); !ok || len(ca.Topics) != 1 || len(ca.Topics[0].Partitions) != 2 {
		return fmt.Errorf("describe group: member assignment %+v", d.Members[0].Assigned)
	}
	byType, err := adm.ListGroupsByType(ctx, []string{"classic"})
	if err != nil {
		return fmt.Errorf("list groups by type: %w", err)
	}
	if g, ok := byType[group]; !ok || g.GroupType != "classic" || g.State != "Stable" {
		return fmt.Errorf("list classic groups: %s is %+v", group, g)
	}
	if byType, err = adm.ListGroupsByType(ctx, []string{"consumer"}); err != nil {
		return err
	} else if _, ok := byType[group]; ok {
		return fmt.Errorf("classic group %s listed as a consumer (KIP-848) group", group)
	}
	// A group with a live member cannot be deleted.
	if dg, err := adm.DeleteGroup(ctx, group); !errors.Is(err, kerr.NonEmptyGroup) {
		return fmt.Errorf("deleting a live group: %v (%+v), want NON_EMPTY_GROUP", err, dg)
	}
	fo, err := adm.FetchOffsets(ctx, group)
	if err != nil || fo.Error() != nil {
		return fmt.Errorf("fetch offsets: %v %v", err, fo.Error())
	}
	for p := int32(0); p < 2; p++ {
		if o, _ := fo.Lookup(topic, p); o.At != 5 {
			return fmt.Errorf("committed %d on partition %d, want 5", o.At, p)
		}
	}
	m.cl.Close()
	if err := waitUntil(ctx, "group empty", func() (bool, error) {
		dg, err := adm.DescribeGroups(ctx, group)
		return err == nil && dg[group].State == "Empty", err
	}); err != nil {
		return err
	}

	var os kadm.Offsets
	os.AddOffset(topic, 0, 2, -1)
	os.Add(kadm.Offset{Topic: topic, Partition: 1, At: 3, LeaderEpoch: -1, Metadata: "by-kadm"})
	if err := adm.CommitAllOffsets(ctx, group, os); err != nil {
		return fmt.Errorf("commit offsets: %w", err)
	}
	fo, err = adm.FetchOffsetsForTopics(ctx, group, topic)
	if err != nil {
		return err
	}
	if o, _ := fo.Lookup(topic, 1); o.At != 3 || o.Metadata != "by-kadm" {
		return fmt.Errorf("after commit partition 1: %+v", o)
	}
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return fmt.Errorf("lag: %w", err)
	}
	lag := lags[group]
	if lag.Error() != nil {
		return fmt.Errorf("lag: %w", lag.Error())
	}
	if total := lag.Lag.Total(); total != 5 {
		return fmt.Errorf("lag %d, want 5", total)
	}
	var ts kadm.TopicsSet
	ts.Add(topic, 0)
	dr, err := adm.DeleteOffsets(ctx, group, ts)
	if err != nil || dr.Error() != nil {
		return fmt.Errorf("delete offsets: %v %v", err, dr.Error())
	}
	fo, err = adm.FetchOffsets(ctx, group)
	if err != nil {
		return err
	}
	if o, ok := fo.Lookup(topic, 0); ok && o.At >= 0 {
		return fmt.Errorf("offset of partition 0 survives delete: %+v", o)
	}
	many := adm.FetchManyOffsets(ctx, group, t.uniq("nogroup"))
	if many.Error() != nil {
		return fmt.Errorf("fetch many offsets: %w", many.Error())
	}
	del, err := adm.DeleteGroups(ctx, group)
	if err != nil || del.Error() != nil {
		return fmt.Errorf("delete group: %v %v", err, del.Error())
	}
	lg, err = adm.ListGroups(ctx)
	if err != nil {
		return err
	}
	if _, ok := lg[group]; ok {
		return fmt.Errorf("deleted group still listed")
	}
	return nil
}

// adminListOffsets: start/end/max-timestamp/by-timestamp offsets and
// DeleteRecords moving the start offset.
func adminListOffsets(ctx context.Context, t *T) error {
	adm, cl, err := newAdmin()
	if err != nil {
		return err
	}
	defer cl.Close()
	topic := t.uniq("t")
	if err := createTopic(ctx, adm, topic, 1, nil); err != nil {
		return err
	}
	p, err := newClient(kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer p.Close()
	base := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
	var rs []*kgo.Record
	for i := 0; i < 10; i++ {
		// Timestamps rise by a second per record, with record 7 the latest.
		ts := base.Add(time.Duration(i) * time.Second)
		if i == 7 {
			ts = base.Add(time.Minute)
		}
		rs = append(rs, &kgo.Record{Value: []byte(strconv.Itoa(i)), Timestamp: ts})
	}
	if err := p.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return err
	}
	check := func(what string, lo kadm.ListedOffsets, err error, want int64) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		o, ok := lo.Lookup(topic, 0)
		if !ok || o.Err != nil || o.Offset != want {
			return fmt.Errorf("%s: %+v, want offset %d", what, o, want)
		}
		return nil
	}
	lo, err := adm.ListStartOffsets(ctx, topic)
	if err := check("start", lo, err, 0); err != nil {
		return err
	}
	lo, err = adm.ListEndOffsets(ctx, topic)
	if err := check("end", lo, err, 10); err != nil {
		return err
	}
	lo, err = adm.ListMaxTimestampOffsets(ctx, topic)
	if err := check("max timestamp", lo, err, 7); err != nil {
		return err
	}
	lo, err = adm.ListOffsetsAfterMilli(ctx, base.Add(3500*time.Millisecond).UnixMilli(), topic)
	if err := check("after timestamp", lo, err, 4); err != nil {
		return err
	}
	lo, err = adm.ListCommittedOffsets(ctx, topic)
	if err := check("committed (LSO)", lo, err, 10); err != nil {
		return err
	}

	var epochReq kadm.OffsetForLeaderEpochRequest
	epochReq.Add(topic, 0, 0)
	epochs, err := adm.OffsetForLeaderEpoch(ctx, epochReq)
	if err != nil {
		return fmt.Errorf("offset for leader epoch: %w", err)
	}
	if e := epochs[topic][0]; e.Err != nil || e.LeaderEpoch != 0 || e.EndOffset != 10 {
		return fmt.Errorf("offset for leader epoch 0: %+v, want epoch 0 end offset 10", e)
	}

	var os kadm.Offsets
	os.AddOffset(topic, 0, 6, -1)
	dr, err := adm.DeleteRecords(ctx, os)
	if err != nil {
		return fmt.Errorf("delete records: %w", err)
	}
	if r, _ := dr.Lookup(topic, 0); r.Err != nil || r.LowWatermark != 6 {
		return fmt.Errorf("delete records: %+v", r)
	}
	lo, err = adm.ListStartOffsets(ctx, topic)
	if err := check("start after delete records", lo, err, 6); err != nil {
		return err
	}
	got, err := consumeExact(ctx, 4, kgo.ConsumeTopics(topic))
	if err != nil {
		return fmt.Errorf("consume after delete records: %w", err)
	}
	if got[0].Offset != 6 || string(got[0].Value) != "6" {
		return fmt.Errorf("first record after delete records: %d %q", got[0].Offset, got[0].Value)
	}
	return nil
}

// adminLogDirsProducersTxns: describe log dirs, describe producers of a
// partition with an open transaction, list and describe transactions.
func adminLogDirsProducersTxns(ctx context.Context, t *T) error {
	adm, cl, err := newAdmin()
	if err != nil {
		return err
	}
	defer cl.Close()
	topic, txnID := t.uniq("t"), t.uniq("txn")
	if err := createTopic(ctx, adm, topic, 1, nil); err != nil {
		return err
	}
	p, err := newClient(kgo.TransactionalID(txnID), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer p.Close()
	if err := p.BeginTransaction(); err != nil {
		return err
	}
	if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte("open")}).FirstErr(); err != nil {
		return err
	}
	pid, _, err := p.ProducerID(ctx)
	if err != nil {
		return err
	}

	var ts kadm.TopicsSet
	ts.Add(topic, 0)
	dirs, err := adm.DescribeAllLogDirs(ctx, ts)
	if err != nil {
		return fmt.Errorf("describe log dirs: %w", err)
	}
	found := false
	dirs.Each(func(d kadm.DescribedLogDir) {
		if pd, ok := d.Topics.Lookup(topic, 0); ok && d.Err == nil && pd.Size > 0 {
			found = true
		}
	})
	if !found {
		return fmt.Errorf("describe log dirs lacks %s[0] with data: %+v", topic, dirs)
	}

	dp, err := adm.DescribeProducers(ctx, ts)
	if err != nil {
		return fmt.Errorf("describe producers: %w", err)
	}
	part := dp[topic].Partitions[0]
	if part.Err != nil || len(part.ActiveProducers) != 1 {
		return fmt.Errorf("describe producers: %+v", part)
	}
	ap := part.ActiveProducers[pid]
	if ap.ProducerID != pid || ap.CurrentTxnStartOffset != 0 || ap.LastSequence != 0 {
		return fmt.Errorf("describe producers: %+v (pid %d)", ap, pid)
	}

	lt, err := adm.ListTransactions(ctx, nil, nil)
	if err != nil {
		return fmt.Errorf("list transactions: %w", err)
	}
	if l, ok := lt[txnID]; !ok || l.ProducerID != pid || l.State != "Ongoing" {
		return fmt.Errorf("list transactions: %+v", lt[txnID])
	}
	if lt, err = adm.ListTransactions(ctx, []int64{pid}, []string{"Ongoing"}); err != nil || len(lt) != 1 {
		return fmt.Errorf("list transactions filtered: %v %v", lt, err)
	}
	dt, err := adm.DescribeTransactions(ctx, txnID)
	if err != nil {
		return fmt.Errorf("describe transactions: %w", err)
	}
	d := dt[txnID]
	if d.Err != nil || d.State != "Ongoing" || d.ProducerID != pid || !d.Topics.Lookup(topic, 0) {
		return fmt.Errorf("describe transactions: %+v", d)
	}
	if err := p.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return err
	}
	return waitUntil(ctx, "transaction CompleteCommit", func() (bool, error) {
		dt, err := adm.DescribeTransactions(ctx, txnID)
		if err != nil {
			return false, err
		}
		return dt[txnID].State == "CompleteCommit", nil
	})
}
