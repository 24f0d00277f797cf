package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func produceN(ctx context.Context, topic string, parts, n int, prefix string) error {
	p, err := newClient(kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer p.Close()
	var rs []*kgo.Record
	for i := 0; i < n; i++ {
		rs = append(rs, &kgo.Record{Partition: int32(i % parts), Value: []byte(fmt.Sprintf("%s%d", prefix, i))})
	}
	return p.ProduceSync(ctx, rs...).FirstErr()
}

// txnConsumeTransformProduce: a GroupTransactSession reads the input topic,
// writes transformed records and commits the consumed offsets inside each
// transaction; a read_committed reader then sees every output exactly once
// and the group's offsets are at the input's end.
func txnConsumeTransformProduce(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	in, out, group := t.uniq("in"), t.uniq("out"), t.uniq("g")
	for _, tp := range []string{in, out} {
		if err := createTopic(ctx, adm, tp, 3, nil); err != nil {
			return err
		}
	}
	const n = 30
	if err := produceN(ctx, in, 3, n, "in"); err != nil {
		return err
	}
	s, err := kgo.NewGroupTransactSession(
		kgo.SeedBrokers(strings.Split(bootstrap, ",")...),
		kgo.TransactionalID(t.uniq("txn")),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(in),
		kgo.DefaultProduceTopic(out),
		kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200*time.Millisecond),
		kgo.RequireStableFetchOffsets(),
	)
	if err != nil {
		return err
	}
	defer s.Close()
	done := 0
	txns := 0
	for done < n {
		f := s.PollFetches(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("transformed %d of %d before the deadline", done, n)
		}
		if err := fetchErr(f); err != nil {
			return err
		}
		recs := f.Records()
		if len(recs) == 0 {
			continue
		}
		if err := s.Begin(); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		for _, r := range recs {
			s.Produce(ctx, &kgo.Record{Key: r.Value, Value: []byte(strings.ToUpper(string(r.Value)))}, nil)
		}
		committed, err := s.End(ctx, kgo.TryCommit)
		if err != nil {
			return fmt.Errorf("end: %w", err)
		}
		if committed {
			done += len(recs)
			txns++
		}
	}
	got, err := consumeExact(ctx, n, kgo.ConsumeTopics(out), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return fmt.Errorf("read_committed output: %w", err)
	}
	seen := map[string]bool{}
	for _, r := range got {
		if string(r.Value) != strings.ToUpper(string(r.Key)) || seen[string(r.Key)] {
			return fmt.Errorf("bad or duplicate output %q=%q", r.Key, r.Value)
		}
		seen[string(r.Key)] = true
	}
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return err
	}
	sum := int64(0)
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	if sum != n {
		return fmt.Errorf("group committed %d, want %d (%d transactions)", sum, n, txns)
	}
	return nil
}

// txnAbort: an aborted transaction's records are invisible to read_committed
// and visible to read_uncommitted; a later committed one is visible to both.
func txnAbort(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic := t.uniq("t")
	if err := createTopic(ctx, adm, topic, 1, nil); err != nil {
		return err
	}
	p, err := newClient(kgo.TransactionalID(t.uniq("txn")), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer p.Close()
	write := func(prefix string, n int, end kgo.TransactionEndTry) error {
		if err := p.BeginTransaction(); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprintf("%s%d", prefix, i))}).FirstErr(); err != nil {
				return err
			}
		}
		return p.EndTransaction(ctx, end)
	}
	if err := write("aborted", 10, kgo.TryAbort); err != nil {
		return fmt.Errorf("aborted txn: %w", err)
	}
	if err := write("committed", 5, kgo.TryCommit); err != nil {
		return fmt.Errorf("committed txn: %w", err)
	}
	committed, err := consumeExact(ctx, 5, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return fmt.Errorf("read_committed: %w", err)
	}
	for _, r := range committed {
		if !strings.HasPrefix(string(r.Value), "committed") {
			return fmt.Errorf("read_committed saw %q", r.Value)
		}
	}
	if _, err := consumeExact(ctx, 15, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadUncommitted())); err != nil {
		return fmt.Errorf("read_uncommitted: %w", err)
	}
	// 10 + abort marker + 5 + commit marker.
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return err
	}
	if o, _ := ends.Lookup(topic, 0); o.Offset != 17 {
		return fmt.Errorf("end offset %d, want 17", o.Offset)
	}
	return nil
}

// txnFencing: a second client with the same transactional id fences the
// first, whose open transaction is aborted and whose commit fails.
func txnFencing(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic, txnID := t.uniq("t"), t.uniq("txn")
	if err := createTopic(ctx, adm, topic, 1, nil); err != nil {
		return err
	}
	a, err := newClient(kgo.TransactionalID(txnID), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer a.Close()
	if err := a.BeginTransaction(); err != nil {
		return err
	}
	if err := a.ProduceSync(ctx, &kgo.Record{Value: []byte("from-a")}).FirstErr(); err != nil {
		return fmt.Errorf("a produce: %w", err)
	}
	b, err := newClient(kgo.TransactionalID(txnID), kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer b.Close()
	if err := b.BeginTransaction(); err != nil {
		return err
	}
	if err := b.ProduceSync(ctx, &kgo.Record{Value: []byte("from-b")}).FirstErr(); err != nil {
		return fmt.Errorf("b produce: %w", err)
	}
	aErr := a.EndTransaction(ctx, kgo.TryCommit)
	if aErr == nil {
		return fmt.Errorf("the fenced client's commit succeeded")
	}
	if !errors.Is(aErr, kerr.ProducerFenced) && !errors.Is(aErr, kerr.InvalidProducerEpoch) {
		return fmt.Errorf("fenced client's commit failed with %v, want PRODUCER_FENCED or INVALID_PRODUCER_EPOCH", aErr)
	}
	if err := b.EndTransaction(ctx, kgo.TryCommit); err != nil {
		return fmt.Errorf("b commit: %w", err)
	}
	got, err := consumeExact(ctx, 1, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	if err != nil {
		return err
	}
	if string(got[0].Value) != "from-b" {
		return fmt.Errorf("read_committed saw %q", got[0].Value)
	}
	return nil
}
