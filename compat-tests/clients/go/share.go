package main

// Share groups (KIP-932) with franz-go's share consumer (kgo.ShareGroup):
// two consumers of one partition get disjoint records while they hold
// them, a released record comes back with a higher delivery count, a
// rejected one never does, and every other record is delivered once.

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// setGroupConfig sets a group config (resource type GROUP, KIP-848/932) with
// IncrementalAlterConfigs.
func setGroupConfig(ctx context.Context, cl *kgo.Client, group, key, value string) error {
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeGroupConfig
	res.ResourceName = group
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name = key
	c.Value = &value
	res.Configs = append(res.Configs, c)
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("set %s on group %s: %w", key, group, err)
	}
	for _, r := range resp.Resources {
		if r.ErrorCode != 0 {
			return fmt.Errorf("set %s on group %s: error code %d (%v)", key, group, r.ErrorCode, r.ErrorMessage)
		}
	}
	return nil
}

// pollShare polls until some records arrive; it leaves them unacknowledged.
func pollShare(ctx context.Context, cl *kgo.Client, what string) ([]*kgo.Record, error) {
	for {
		pctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		f := cl.PollRecords(pctx, 0)
		cancel()
		if err := fetchErr(f); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if rs := f.Records(); len(rs) > 0 {
			return rs, nil
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s: no records before the deadline", what)
		}
	}
}

func offsetsOf(rs []*kgo.Record) []int64 {
	var out []int64
	for _, r := range rs {
		out = append(out, r.Offset)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func shareGroupScenario(ctx context.Context, t *T) error {
	if reference {
		// The reference peer (Kafka 4.1.1) has share groups in preview, off.
		fmt.Println("NOTE share-group: not run against the reference peer")
		return nil
	}
	const n = 30
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic, group := t.uniq("t"), t.uniq("g")
	if err := createTopic(ctx, adm, topic, 1, nil); err != nil {
		return err
	}
	// Without it a share group starts at the log end (Kafka's default).
	if err := setGroupConfig(ctx, acl, group, "share.auto.offset.reset", "earliest"); err != nil {
		return err
	}
	p, err := newClient(kgo.DefaultProduceTopic(topic))
	if err != nil {
		return err
	}
	defer p.Close()
	// One batch per record: share partitions acquire whole batches.
	for i := 0; i < n; i++ {
		if err := p.ProduceSync(ctx, kgo.StringRecord(fmt.Sprintf("r%d", i))).FirstErr(); err != nil {
			return fmt.Errorf("produce: %w", err)
		}
	}
	consumer := func() (*kgo.Client, error) {
		return newClient(kgo.ShareGroup(group), kgo.ConsumeTopics(topic),
			kgo.ShareMaxRecords(5), kgo.ShareMaxRecordsStrict())
	}
	a, err := consumer()
	if err != nil {
		return err
	}
	defer a.Close()
	b, err := consumer()
	if err != nil {
		return err
	}
	defer b.Close()

	// Both hold what they got: the two sets cannot overlap.
	held, err := pollShare(ctx, a, "consumer A's first poll")
	if err != nil {
		return err
	}
	heldB, err := pollShare(ctx, b, "consumer B's first poll")
	if err != nil {
		return err
	}
	inA := map[int64]bool{}
	for _, r := range held {
		inA[r.Offset] = true
		if r.DeliveryCount() != 1 {
			return fmt.Errorf("first delivery of offset %d has delivery count %d", r.Offset, r.DeliveryCount())
		}
	}
	for _, r := range heldB {
		if inA[r.Offset] {
			return fmt.Errorf("offset %d delivered to both consumers while A holds it (A %v, B %v)", r.Offset, offsetsOf(held), offsetsOf(heldB))
		}
	}
	// A releases, B rejects.
	a.MarkAcks(kgo.AckRelease, held...)
	b.MarkAcks(kgo.AckReject, heldB...)
	if err := a.FlushAcks(ctx); err != nil {
		return fmt.Errorf("A's release: %w", err)
	}
	if err := b.FlushAcks(ctx); err != nil {
		return fmt.Errorf("B's reject: %w", err)
	}
	rejected := map[int64]bool{}
	for _, r := range heldB {
		rejected[r.Offset] = true
	}

	// From here both accept everything they poll (franz-go accepts the
	// previous poll's records at the next poll).
	seen := map[int64]int{}
	redelivered := map[int64]int32{}
	done := func() bool {
		for o := int64(0); o < n; o++ {
			if !rejected[o] && seen[o] == 0 {
				return false
			}
			if inA[o] && redelivered[o] == 0 {
				return false
			}
		}
		return true
	}
	take := func(cl *kgo.Client, d time.Duration) error {
		pctx, cancel := context.WithTimeout(ctx, d)
		defer cancel()
		f := cl.PollRecords(pctx, 0)
		if err := fetchErr(f); err != nil {
			return err
		}
		for _, r := range f.Records() {
			if rejected[r.Offset] {
				return fmt.Errorf("rejected offset %d delivered again", r.Offset)
			}
			if inA[r.Offset] {
				if r.DeliveryCount() < 2 {
					return fmt.Errorf("released offset %d redelivered with delivery count %d", r.Offset, r.DeliveryCount())
				}
				redelivered[r.Offset] = r.DeliveryCount()
			}
			seen[r.Offset]++
			if seen[r.Offset] > 1 {
				return fmt.Errorf("offset %d delivered %d times after the first polls", r.Offset, seen[r.Offset])
			}
		}
		return nil
	}
	for !done() {
		if ctx.Err() != nil {
			return fmt.Errorf("timed out: seen %d offsets, %d of %d released ones redelivered", len(seen), len(redelivered), len(inA))
		}
		for _, cl := range []*kgo.Client{a, b} {
			if err := take(cl, 200*time.Millisecond); err != nil {
				return err
			}
		}
	}
	// Flush the last accepts, then a last short poll must bring nothing.
	for _, cl := range []*kgo.Client{a, b} {
		cl.MarkAcks(kgo.AckAccept)
		if err := cl.FlushAcks(ctx); err != nil {
			return err
		}
	}
	for _, cl := range []*kgo.Client{a, b} {
		if err := take(cl, 500*time.Millisecond); err != nil {
			return err
		}
	}
	fmt.Printf("NOTE share-group: A held %v and released them, B held %v and rejected them\n", offsetsOf(held), offsetsOf(heldB))
	return nil
}
