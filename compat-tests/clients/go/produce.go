package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func codecFor(name string) kgo.CompressionCodec {
	switch name {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

// produceConsume produces records with keys and headers, half with
// ProduceSync and half async, with one codec, and reads them back checking
// content and per-key order.
func produceConsume(ctx context.Context, t *T, codec string) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic := t.uniq("t")
	if err := createTopic(ctx, adm, topic, 3, nil); err != nil {
		return err
	}
	p, err := newClient(kgo.DefaultProduceTopic(topic), kgo.ProducerBatchCompression(codecFor(codec)))
	if err != nil {
		return err
	}
	defer p.Close()

	const n = 200
	// Compressible payloads, so the codec really shrinks the batch.
	value := func(i int) string { return fmt.Sprintf("%05d-%s", i, strings.Repeat("skiff ", 20)) }
	rec := func(i int) *kgo.Record {
		return &kgo.Record{
			Key:     []byte("k" + strconv.Itoa(i%7)),
			Value:   []byte(value(i)),
			Headers: []kgo.RecordHeader{{Key: "seq", Value: []byte(strconv.Itoa(i))}, {Key: "codec", Value: []byte(codec)}},
		}
	}
	var sync_ []*kgo.Record
	for i := 0; i < n/2; i++ {
		sync_ = append(sync_, rec(i))
	}
	if err := p.ProduceSync(ctx, sync_...).FirstErr(); err != nil {
		return fmt.Errorf("ProduceSync: %w", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var asyncErr error
	for i := n / 2; i < n; i++ {
		wg.Add(1)
		p.Produce(ctx, rec(i), func(r *kgo.Record, err error) {
			defer wg.Done()
			if err != nil {
				mu.Lock()
				asyncErr = err
				mu.Unlock()
			}
		})
	}
	if err := p.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	wg.Wait()
	if asyncErr != nil {
		return fmt.Errorf("async produce: %w", asyncErr)
	}

	got, err := consumeExact(ctx, n, kgo.ConsumeTopics(topic))
	if err != nil {
		return err
	}
	// The stored batches carry the codec (attributes bits 0-2), so the
	// broker kept the client's compressed batches as they were.
	for part := int32(0); part < 3; part++ {
		codecs, err := batchCodecs(ctx, acl, adm, topic, part)
		if err != nil {
			return err
		}
		for c := range codecs {
			if c != codecIDs[codec] {
				return fmt.Errorf("partition %d holds batches with codec %d, want %d (%s): %v", part, c, codecIDs[codec], codec, codecs)
			}
		}
	}
	seen := map[int]bool{}
	lastSeqByKey := map[string]int{}
	lastOffset := map[int32]int64{}
	// Fetches return each partition in offset order; records of one key
	// share a partition, so their seq must increase.
	for _, r := range got {
		if len(r.Headers) != 2 || r.Headers[0].Key != "seq" || r.Headers[1].Key != "codec" || string(r.Headers[1].Value) != codec {
			return fmt.Errorf("bad headers %v at %s[%d]@%d", r.Headers, r.Topic, r.Partition, r.Offset)
		}
		seq, err := strconv.Atoi(string(r.Headers[0].Value))
		if err != nil {
			return fmt.Errorf("bad seq header %q", r.Headers[0].Value)
		}
		if seen[seq] {
			return fmt.Errorf("duplicate record seq %d", seq)
		}
		seen[seq] = true
		if string(r.Value) != value(seq) || string(r.Key) != "k"+strconv.Itoa(seq%7) {
			return fmt.Errorf("record %d: key %q value %q", seq, r.Key, r.Value)
		}
		if last, ok := lastSeqByKey[string(r.Key)]; ok && seq < last {
			return fmt.Errorf("key %s out of order: %d after %d", r.Key, seq, last)
		}
		lastSeqByKey[string(r.Key)] = seq
		if last, ok := lastOffset[r.Partition]; ok && r.Offset != last+1 {
			return fmt.Errorf("partition %d: offset %d after %d", r.Partition, r.Offset, last)
		}
		lastOffset[r.Partition] = r.Offset
	}
	// Every record's partition must be the one its key hashes to
	// (the default partitioner), which also means keys were stored intact.
	keyPart := map[string]int32{}
	for _, r := range got {
		if p, ok := keyPart[string(r.Key)]; ok && p != r.Partition {
			return fmt.Errorf("key %s in partitions %d and %d", r.Key, p, r.Partition)
		}
		keyPart[string(r.Key)] = r.Partition
	}
	return nil
}

// idempotentProducer uses franz-go's defaults (idempotent, acks=all) with many
// concurrent batches and checks no record is lost or duplicated and that the
// records carry the producer id the broker assigned.
func idempotentProducer(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic := t.uniq("t")
	if err := createTopic(ctx, adm, topic, 2, nil); err != nil {
		return err
	}
	p, err := newClient(kgo.DefaultProduceTopic(topic), kgo.ProducerBatchMaxBytes(2048))
	if err != nil {
		return err
	}
	defer p.Close()
	const n = 2000
	var mu sync.Mutex
	var perr error
	for i := 0; i < n; i++ {
		p.Produce(ctx, &kgo.Record{Partition: int32(i % 2), Key: []byte(strconv.Itoa(i % 2)), Value: []byte(fmt.Sprintf("v%06d", i))}, func(r *kgo.Record, err error) {
			if err != nil {
				mu.Lock()
				perr = err
				mu.Unlock()
			}
		})
	}
	if err := p.Flush(ctx); err != nil {
		return err
	}
	if perr != nil {
		return fmt.Errorf("produce: %w", perr)
	}
	pid, epoch, err := p.ProducerID(ctx)
	if err != nil {
		return fmt.Errorf("ProducerID: %w", err)
	}
	if pid < 0 {
		return fmt.Errorf("no producer id assigned (%d)", pid)
	}
	got, err := consumeExact(ctx, n, kgo.ConsumeTopics(topic))
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range got {
		if r.ProducerID != pid || r.ProducerEpoch != epoch {
			return fmt.Errorf("record at %d@%d has producer %d/%d, want %d/%d", r.Partition, r.Offset, r.ProducerID, r.ProducerEpoch, pid, epoch)
		}
		if seen[string(r.Value)] {
			return fmt.Errorf("duplicate %s", r.Value)
		}
		seen[string(r.Value)] = true
	}
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return err
	}
	total := int64(0)
	ends.Each(func(o kadm.ListedOffset) { total += o.Offset })
	if total != n {
		return fmt.Errorf("end offsets sum to %d, want %d", total, n)
	}
	return nil
}

var codecIDs = map[string]int8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}

// batchCodecs fetches a partition with a raw Fetch and counts its record
// batches by codec.
func batchCodecs(ctx context.Context, cl *kgo.Client, adm *kadm.Client, topic string, part int32) (map[int8]int, error) {
	td, err := adm.ListTopics(ctx, topic)
	if err != nil {
		return nil, err
	}
	req := kmsg.NewPtrFetchRequest()
	req.MaxWaitMillis, req.MaxBytes, req.SessionEpoch = 0, 8<<20, -1
	p := kmsg.NewFetchRequestTopicPartition()
	p.Partition, p.PartitionMaxBytes = part, 8<<20
	t := kmsg.NewFetchRequestTopic()
	t.Topic, t.TopicID, t.Partitions = topic, td[topic].ID, []kmsg.FetchRequestTopicPartition{p}
	req.Topics = []kmsg.FetchRequestTopic{t}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("raw fetch: %w", err)
	}
	if len(resp.Topics) != 1 || len(resp.Topics[0].Partitions) != 1 {
		return nil, fmt.Errorf("raw fetch answered %d topics", len(resp.Topics))
	}
	rp := resp.Topics[0].Partitions[0]
	if rp.ErrorCode != 0 {
		return nil, fmt.Errorf("raw fetch: %v", kerr.ErrorForCode(rp.ErrorCode))
	}
	out := map[int8]int{}
	b := rp.RecordBatches
	for len(b) >= 12 {
		n := int(int32(binary.BigEndian.Uint32(b[8:12]))) + 12
		if n > len(b) {
			break // a partial batch at the end of the fetch
		}
		var batch kmsg.RecordBatch
		if err := batch.ReadFrom(b[:n]); err != nil {
			return nil, fmt.Errorf("decoding a fetched batch: %w", err)
		}
		out[int8(batch.Attributes&0x7)]++
		b = b[n:]
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("raw fetch of %s[%d] returned no batches", topic, part)
	}
	return out, nil
}
