package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// fetchLongPollWakes: a consumer parked in a fetch with franz-go's default
// 5 s max wait gets a record produced meanwhile well before the wait ends,
// so the broker answers parked fetches when data arrives.
func fetchLongPollWakes(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic := t.uniq("t")
	if err := createTopic(ctx, adm, topic, 1, nil); err != nil {
		return err
	}
	c, err := newClient(kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		return err
	}
	defer c.Close()
	p, err := newClient(kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer p.Close()
	// Round 0 warms up (metadata, offsets); then each round produces once
	// the consumer has had time to park and measures how long the record
	// takes to arrive.
	for round := 0; round < 4; round++ {
		got := make(chan time.Time, 1)
		go func() {
			for ctx.Err() == nil {
				if f := c.PollFetches(ctx); f.NumRecords() > 0 {
					got <- time.Now()
					return
				}
			}
		}()
		time.Sleep(700 * time.Millisecond) // the fetch is parked on the broker by now
		sent := time.Now()
		if err := p.ProduceSync(ctx, &kgo.Record{Value: []byte(fmt.Sprint(round))}).FirstErr(); err != nil {
			return err
		}
		select {
		case at := <-got:
			if lat := at.Sub(sent); round > 0 && lat > 2*time.Second {
				return fmt.Errorf("round %d: record arrived %s after produce (fetch max wait is 5s): parked fetch not woken", round, lat)
			}
		case <-ctx.Done():
			return fmt.Errorf("round %d: record never arrived", round)
		}
	}
	return nil
}

// consumerGroupStatic: a static member (group.instance.id) that restarts
// without leaving is replaced in place by its successor, which resumes
// from the commits without waiting for the session timeout.
func consumerGroupStatic(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic, group := t.uniq("t"), t.uniq("g")
	if err := createTopic(ctx, adm, topic, 2, nil); err != nil {
		return err
	}
	if err := produceN(ctx, topic, 2, 10, "a"); err != nil {
		return err
	}
	member := func() (*kgo.Client, error) {
		return newClient(
			kgo.ConsumeTopics(topic), kgo.ConsumerGroup(group), kgo.InstanceID("static-1"),
			kgo.SessionTimeout(30*time.Second), kgo.DisableAutoCommit(),
			kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond),
		)
	}
	m1, err := member()
	if err != nil {
		return err
	}
	if _, err := pollN(ctx, m1, 10); err != nil {
		m1.Close()
		return err
	}
	if err := m1.CommitUncommittedOffsets(ctx); err != nil {
		m1.Close()
		return err
	}
	dg, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		m1.Close()
		return err
	}
	if ms := dg[group].Members; len(ms) != 1 || ms[0].InstanceID == nil || *ms[0].InstanceID != "static-1" {
		m1.Close()
		return fmt.Errorf("describe: members %+v", ms)
	}
	oldID := dg[group].Members[0].MemberID
	m1.Close() // a static member does not send LeaveGroup on close
	if err := produceN(ctx, topic, 2, 4, "b"); err != nil {
		return err
	}
	start := time.Now()
	m2, err := member()
	if err != nil {
		return err
	}
	defer m2.Close()
	got, err := pollN(ctx, m2, 4)
	if err != nil {
		return fmt.Errorf("successor: %w", err)
	}
	for _, r := range got {
		if r.Offset < 5 {
			return fmt.Errorf("successor re-read offset %d before the commit", r.Offset)
		}
	}
	if took := time.Since(start); took > 10*time.Second {
		return fmt.Errorf("successor took %s (waited for the session timeout?)", took)
	}
	dg, err = adm.DescribeGroups(ctx, group)
	if err != nil {
		return err
	}
	if ms := dg[group].Members; len(ms) != 1 || ms[0].MemberID == oldID {
		return fmt.Errorf("after replacement: members %+v (old member %s)", ms, oldID)
	}
	return nil
}
