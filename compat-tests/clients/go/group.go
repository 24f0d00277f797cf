package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// member is one group consumer with its current assignment, kept up to
// date from the rebalance callbacks (which work for eager and cooperative
// balancers alike: eager revokes everything, cooperative only what moves).
type member struct {
	cl       *kgo.Client
	mu       sync.Mutex
	assigned map[int32]bool
	records  []*kgo.Record
	err      error
}

func newMember(topic, group string, balancer kgo.GroupBalancer, extra ...kgo.Opt) (*member, error) {
	m := &member{assigned: map[int32]bool{}}
	update := func(add bool) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for _, p := range ps[topic] {
				if add {
					m.assigned[p] = true
				} else {
					delete(m.assigned, p)
				}
			}
		}
	}
	opts := append([]kgo.Opt{
		kgo.ConsumeTopics(topic),
		kgo.ConsumerGroup(group),
		kgo.Balancers(balancer),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.OnPartitionsAssigned(update(true)),
		kgo.OnPartitionsRevoked(update(false)),
		kgo.OnPartitionsLost(update(false)),
	}, extra...)
	cl, err := newClient(opts...)
	if err != nil {
		return nil, err
	}
	m.cl = cl
	return m, nil
}

// poll runs until ctx ends, collecting records.
func (m *member) poll(ctx context.Context) {
	for ctx.Err() == nil {
		f := m.cl.PollFetches(ctx)
		if err := fetchErr(f); err != nil {
			m.mu.Lock()
			m.err = err
			m.mu.Unlock()
			return
		}
		m.mu.Lock()
		m.records = append(m.records, f.Records()...)
		m.mu.Unlock()
	}
}

func (m *member) snapshot() (map[int32]bool, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	a := map[int32]bool{}
	for p := range m.assigned {
		a[p] = true
	}
	return a, len(m.records), m.err
}

func waitUntil(ctx context.Context, what string, cond func() (bool, error)) error {
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for %s", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// consumerGroup: two members of one group split six partitions disjointly,
// (with kgo.ServerSideBalancer in extra: KIP-848, the broker assigns),
// consume everything exactly once between them, commit; after both leave, a
// new member resumes from the committed offsets.
func consumerGroup(ctx context.Context, t *T, balancer kgo.GroupBalancer, extra ...kgo.Opt) error {
	const parts = 6
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic, group := t.uniq("t"), t.uniq("g")
	if err := createTopic(ctx, adm, topic, parts, nil); err != nil {
		return err
	}
	p, err := newClient(kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return err
	}
	defer p.Close()
	produce := func(from, n int) error {
		var rs []*kgo.Record
		for i := from; i < from+n; i++ {
			rs = append(rs, &kgo.Record{Partition: int32(i % parts), Value: []byte(fmt.Sprintf("r%d", i))})
		}
		return p.ProduceSync(ctx, rs...).FirstErr()
	}

	m1, err := newMember(topic, group, balancer, extra...)
	if err != nil {
		return err
	}
	defer m1.cl.Close()
	m2, err := newMember(topic, group, balancer, extra...)
	if err != nil {
		return err
	}
	defer m2.cl.Close()
	pollCtx, stopPolling := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for _, m := range []*member{m1, m2} {
		wg.Add(1)
		go func(m *member) { defer wg.Done(); m.poll(pollCtx) }(m)
	}
	stop := func() { stopPolling(); wg.Wait() }
	defer stop()

	split := func() (bool, error) {
		a1, _, e1 := m1.snapshot()
		a2, _, e2 := m2.snapshot()
		if e1 != nil || e2 != nil {
			return false, fmt.Errorf("member errors: %v / %v", e1, e2)
		}
		if len(a1) == 0 || len(a2) == 0 || len(a1)+len(a2) != parts {
			return false, nil
		}
		for p := range a1 {
			if a2[p] {
				return false, nil
			}
		}
		return true, nil
	}
	if err := waitUntil(ctx, "both members to share the partitions", split); err != nil {
		a1, _, _ := m1.snapshot()
		a2, _, _ := m2.snapshot()
		return fmt.Errorf("%w (member 1 has %v, member 2 has %v)", err, a1, a2)
	}
	if err := produce(0, 60); err != nil {
		return fmt.Errorf("produce: %w", err)
	}
	if err := waitUntil(ctx, "60 records consumed", func() (bool, error) {
		_, n1, e1 := m1.snapshot()
		_, n2, e2 := m2.snapshot()
		if e1 != nil || e2 != nil {
			return false, fmt.Errorf("member errors: %v / %v", e1, e2)
		}
		return n1+n2 >= 60, nil
	}); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // let a duplicate delivery, if any, arrive
	stop()
	seen := map[string]bool{}
	for i, m := range []*member{m1, m2} {
		a, _, _ := m.snapshot()
		for _, r := range m.records {
			if !a[r.Partition] {
				return fmt.Errorf("member %d consumed partition %d it does not own (%v)", i+1, r.Partition, a)
			}
			if seen[string(r.Value)] {
				return fmt.Errorf("record %s consumed twice", r.Value)
			}
			seen[string(r.Value)] = true
		}
		if err := m.cl.CommitUncommittedOffsets(ctx); err != nil {
			return fmt.Errorf("member %d commit: %w", i+1, err)
		}
	}
	if len(seen) != 60 {
		return fmt.Errorf("consumed %d distinct records, want 60", len(seen))
	}
	m1.cl.Close()
	m2.cl.Close()

	committed, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return fmt.Errorf("fetch offsets: %w", err)
	}
	if err := committed.Error(); err != nil {
		return fmt.Errorf("fetch offsets: %w", err)
	}
	for part := int32(0); part < parts; part++ {
		o, ok := committed.Lookup(topic, part)
		if !ok || o.At != 10 {
			return fmt.Errorf("committed offset of partition %d is %+v, want 10", part, o)
		}
	}

	// A restart resumes from the commits: only the new records arrive.
	if err := produce(60, 12); err != nil {
		return err
	}
	m3, err := newMember(topic, group, balancer, extra...)
	if err != nil {
		return err
	}
	defer m3.cl.Close()
	got, err := pollN(ctx, m3.cl, 12)
	if err != nil {
		return fmt.Errorf("after restart: %w", err)
	}
	for _, r := range got {
		if r.Offset < 10 {
			return fmt.Errorf("after restart got %s at offset %d, before the commit", r.Value, r.Offset)
		}
	}
	if err := m3.cl.CommitUncommittedOffsets(ctx); err != nil {
		return err
	}
	if len(extra) > 0 {
		// kadm.Lag describes the group with DescribeGroups, which Kafka
		// answers GROUP_ID_NOT_FOUND for a KIP-848 group ("not a classic
		// group"); so does Skiff. The commits were checked above.
		described, err := adm.DescribeGroups(ctx, group)
		if err != nil {
			return fmt.Errorf("describe: %w", err)
		}
		if d := described[group]; !errors.Is(d.Err, kerr.GroupIDNotFound) {
			return fmt.Errorf("DescribeGroups of a KIP-848 group answered %v, want GROUP_ID_NOT_FOUND as Kafka", d.Err)
		}
		return nil
	}
	lags, err := adm.Lag(ctx, group)
	if err != nil {
		return fmt.Errorf("lag: %w", err)
	}
	l := lags[group]
	if l.Error() != nil {
		return fmt.Errorf("lag: %w", l.Error())
	}
	if l.Lag.Total() != 0 {
		return fmt.Errorf("lag after commit is %d", l.Lag.Total())
	}
	_ = kadm.Offsets{}
	return nil
}
