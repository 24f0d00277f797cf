package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawConn is one plain TCP connection speaking framed Kafka requests, so the
// version of every request is exactly the one chosen (kgo would negotiate).
type rawConn struct {
	c    net.Conn
	r    *bufio.Reader
	fmtr *kmsg.RequestFormatter
	corr int32
}

func dialRaw() (*rawConn, error) {
	addr := strings.Split(bootstrap, ",")[0]
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &rawConn{c: c, r: bufio.NewReader(c), fmtr: kmsg.NewRequestFormatter(kmsg.FormatterClientID("franzgo-raw"))}, nil
}

// roundTrip sends req and decodes the response, failing if the broker closes
// the connection, answers with a different correlation id, or sends a body
// that does not decode to exactly its own length at that version.
func (rc *rawConn) roundTrip(req kmsg.Request) (kmsg.Response, error) {
	rc.corr++
	if err := rc.c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		return nil, err
	}
	if _, err := rc.c.Write(rc.fmtr.AppendRequest(nil, req, rc.corr)); err != nil {
		return nil, fmt.Errorf("write: %w", err)
	}
	var size [4]byte
	if _, err := io.ReadFull(rc.r, size[:]); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("broker closed the connection instead of answering")
		}
		return nil, fmt.Errorf("reading response: %w", err)
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 64<<20 {
		return nil, fmt.Errorf("response size %d", n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(rc.r, buf); err != nil {
		return nil, fmt.Errorf("reading response body: %w", err)
	}
	if got := int32(binary.BigEndian.Uint32(buf)); got != rc.corr {
		return nil, fmt.Errorf("correlation id %d, want %d", got, rc.corr)
	}
	body := buf[4:]
	resp := req.ResponseKind()
	resp.SetVersion(req.GetVersion())
	// ApiVersions answers with header v0 whatever its version (KIP-511).
	if resp.IsFlexible() && req.Key() != 18 {
		rest, err := skipTags(body)
		if err != nil {
			return nil, fmt.Errorf("response header tags: %w", err)
		}
		body = rest
	}
	if err := resp.ReadFrom(body); err != nil {
		return nil, fmt.Errorf("decoding the v%d response: %w", req.GetVersion(), err)
	}
	if re := resp.AppendTo(nil); len(re) != len(body) {
		return nil, fmt.Errorf("v%d response body is %d bytes but decodes to %d: the broker encoded another version's layout", req.GetVersion(), len(body), len(re))
	}
	return resp, nil
}

func uvarint(b []byte) (uint64, []byte, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, nil, fmt.Errorf("bad uvarint")
	}
	return v, b[n:], nil
}

func skipTags(b []byte) ([]byte, error) {
	count, b, err := uvarint(b)
	if err != nil {
		return nil, err
	}
	for i := uint64(0); i < count; i++ {
		var size uint64
		if _, b, err = uvarint(b); err != nil {
			return nil, err
		}
		if size, b, err = uvarint(b); err != nil {
			return nil, err
		}
		if uint64(len(b)) < size {
			return nil, fmt.Errorf("tag of %d bytes past the end", size)
		}
		b = b[size:]
	}
	return b, nil
}

// badCodes finds error codes anywhere in a response that mean the broker did
// not serve the version it advertised.
func badCodes(v reflect.Value, path string, out *[]string) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			badCodes(v.Elem(), path, out)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Name == "ErrorCode" && f.Type.Kind() == reflect.Int16 {
				code := int16(v.Field(i).Int())
				if code == kerr.UnsupportedVersion.Code || code == kerr.InvalidRequest.Code || code == kerr.CorruptMessage.Code {
					*out = append(*out, fmt.Sprintf("%s.ErrorCode=%s", path, kerr.ErrorForCode(code)))
				}
			}
			if f.IsExported() {
				badCodes(v.Field(i), path+"."+f.Name, out)
			}
		}
	case reflect.Slice:
		for i := 0; i < v.Len(); i++ {
			badCodes(v.Index(i), fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

// rawTarget is a real topic (with a few records) and names the requests
// refer to, so that answers carry per-partition data at each version.
type rawTarget struct {
	topic string
	id    [16]byte
	group string
	txnID string
}

// prepare fills what an all-defaults request would otherwise get refused or
// wait on, and points the data-carrying requests at the real topic, so each
// request gets an immediate answer with content.
func prepare(req kmsg.Request, tg rawTarget) {
	switch r := req.(type) {
	case *kmsg.ApiVersionsRequest:
		r.ClientSoftwareName = "franz-go-compat"
		r.ClientSoftwareVersion = "1.22"
	case *kmsg.ProduceRequest:
		r.Acks = -1 // acks=0 would get no response at all
		r.TimeoutMillis = 1000
	case *kmsg.FetchRequest:
		r.MaxWaitMillis = 0
		r.SessionEpoch = -1 // no fetch session
		p := kmsg.NewFetchRequestTopicPartition()
		p.Partition, p.FetchOffset, p.PartitionMaxBytes = 0, 0, 1<<20
		t := kmsg.NewFetchRequestTopic()
		t.Topic, t.TopicID, t.Partitions = tg.topic, tg.id, []kmsg.FetchRequestTopicPartition{p}
		r.Topics = []kmsg.FetchRequestTopic{t}
	case *kmsg.ListOffsetsRequest:
		p := kmsg.NewListOffsetsRequestTopicPartition()
		p.Partition, p.Timestamp = 0, -1
		t := kmsg.NewListOffsetsRequestTopic()
		t.Topic, t.Partitions = tg.topic, []kmsg.ListOffsetsRequestTopicPartition{p}
		r.Topics = []kmsg.ListOffsetsRequestTopic{t}
	case *kmsg.MetadataRequest:
		t := kmsg.NewMetadataRequestTopic()
		t.Topic = kmsg.StringPtr(tg.topic)
		r.Topics = []kmsg.MetadataRequestTopic{t}
	case *kmsg.OffsetFetchRequest:
		r.Group = tg.group
		t := kmsg.NewOffsetFetchRequestTopic()
		t.Topic, t.Partitions = tg.topic, []int32{0}
		r.Topics = []kmsg.OffsetFetchRequestTopic{t}
		g := kmsg.NewOffsetFetchRequestGroup()
		g.Group = tg.group
		gt := kmsg.NewOffsetFetchRequestGroupTopic()
		gt.Topic, gt.TopicID, gt.Partitions = tg.topic, tg.id, []int32{0}
		g.Topics = []kmsg.OffsetFetchRequestGroupTopic{gt}
		r.Groups = []kmsg.OffsetFetchRequestGroup{g}
	case *kmsg.FindCoordinatorRequest:
		r.CoordinatorKey = tg.group
		r.CoordinatorKeys = []string{tg.group}
	case *kmsg.DescribeGroupsRequest:
		r.Groups = []string{tg.group}
	case *kmsg.ConsumerGroupHeartbeatRequest:
		// A valid KIP-848 join (an empty group or member id is
		// INVALID_REQUEST in Kafka too), in a group of its own.
		r.Group = tg.group + "-848"
		r.MemberID = "franz-raw-member"
		r.RebalanceTimeoutMillis = 30000
		r.SubscribedTopicNames = []string{tg.topic}
		r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
	case *kmsg.ShareGroupHeartbeatRequest:
		// A valid KIP-932 join (empty ids are INVALID_REQUEST in Kafka too).
		r.GroupID = tg.group + "-share"
		r.MemberID = "franz-raw-share-member"
		r.SubscribedTopicNames = []string{tg.topic}
	case *kmsg.ShareFetchRequest:
		// The member never joined: a per-request error, not INVALID_REQUEST.
		r.GroupID = kmsg.StringPtr(tg.group + "-share")
		r.MemberID = kmsg.StringPtr("franz-raw-share-member")
	case *kmsg.ShareAcknowledgeRequest:
		r.GroupID = kmsg.StringPtr(tg.group + "-share")
		r.MemberID = kmsg.StringPtr("franz-raw-share-member")
		r.ShareSessionEpoch = 1
	case *kmsg.DescribeShareGroupOffsetsRequest:
		g := kmsg.NewDescribeShareGroupOffsetsRequestGroup()
		g.GroupID = tg.group + "-share"
		gt := kmsg.NewDescribeShareGroupOffsetsRequestGroupTopic()
		gt.Topic, gt.Partitions = tg.topic, []int32{0}
		g.Topics = []kmsg.DescribeShareGroupOffsetsRequestGroupTopic{gt}
		r.Groups = []kmsg.DescribeShareGroupOffsetsRequestGroup{g}
	case *kmsg.AlterShareGroupOffsetsRequest:
		// An empty group of its own (the share group above has a member).
		r.GroupID = tg.group + "-share-admin"
		p := kmsg.NewAlterShareGroupOffsetsRequestTopicPartition()
		p.Partition, p.StartOffset = 0, 0
		t := kmsg.NewAlterShareGroupOffsetsRequestTopic()
		t.Topic, t.Partitions = tg.topic, []kmsg.AlterShareGroupOffsetsRequestTopicPartition{p}
		r.Topics = []kmsg.AlterShareGroupOffsetsRequestTopic{t}
	case *kmsg.DeleteShareGroupOffsetsRequest:
		r.GroupID = tg.group + "-share-admin"
		t := kmsg.NewDeleteShareGroupOffsetsRequestTopic()
		t.Topic = tg.topic
		r.Topics = []kmsg.DeleteShareGroupOffsetsRequestTopic{t}
	case *kmsg.ConsumerGroupDescribeRequest:
		r.Groups = []string{tg.group}
	case *kmsg.OffsetForLeaderEpochRequest:
		r.ReplicaID = -1
		p := kmsg.NewOffsetForLeaderEpochRequestTopicPartition()
		p.Partition, p.CurrentLeaderEpoch, p.LeaderEpoch = 0, -1, 0
		t := kmsg.NewOffsetForLeaderEpochRequestTopic()
		t.Topic, t.Partitions = tg.topic, []kmsg.OffsetForLeaderEpochRequestTopicPartition{p}
		r.Topics = []kmsg.OffsetForLeaderEpochRequestTopic{t}
	case *kmsg.DescribeConfigsRequest:
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeTopic, tg.topic
		r.Resources = []kmsg.DescribeConfigsRequestResource{res}
		r.IncludeSynonyms, r.IncludeDocumentation = true, true
	case *kmsg.DescribeProducersRequest:
		t := kmsg.NewDescribeProducersRequestTopic()
		t.Topic, t.Partitions = tg.topic, []int32{0}
		r.Topics = []kmsg.DescribeProducersRequestTopic{t}
	case *kmsg.DescribeTransactionsRequest:
		r.TransactionalIDs = []string{tg.txnID}
	// An empty transactional id is INVALID_REQUEST in Kafka too; an
	// unknown one gets a per-request error instead.
	case *kmsg.EndTxnRequest:
		r.TransactionalID = tg.txnID
	case *kmsg.AddOffsetsToTxnRequest:
		r.TransactionalID, r.Group = tg.txnID, tg.group
	case *kmsg.AddPartitionsToTxnRequest:
		r.TransactionalID = tg.txnID
		// v4+ batches transactions (the broker-to-broker verify form).
		tx := kmsg.NewAddPartitionsToTxnRequestTransaction()
		tx.TransactionalID, tx.ProducerID, tx.ProducerEpoch, tx.VerifyOnly = tg.txnID, -1, -1, true
		r.Transactions = []kmsg.AddPartitionsToTxnRequestTransaction{tx}
	case *kmsg.TxnOffsetCommitRequest:
		r.TransactionalID, r.Group = tg.txnID, tg.group
	}
}

// rawEveryVersion sends one request of every API key the broker advertises,
// at every version in its advertised range, and checks each is answered
// with a response that decodes at that version.
func rawEveryVersion(ctx context.Context, t *T) error {
	tg, err := rawSetup(ctx, t)
	if err != nil {
		return err
	}
	rc, err := dialRaw()
	if err != nil {
		return err
	}
	defer func() { rc.c.Close() }()
	avReq := kmsg.NewPtrApiVersionsRequest()
	avReq.SetVersion(3)
	prepare(avReq, tg)
	resp, err := rc.roundTrip(avReq)
	if err != nil {
		return fmt.Errorf("ApiVersions v3: %w", err)
	}
	av := resp.(*kmsg.ApiVersionsResponse)
	if av.ErrorCode != 0 {
		return fmt.Errorf("ApiVersions: %v", kerr.ErrorForCode(av.ErrorCode))
	}
	var problems []string
	requests := 0
	if verbose() {
		for _, k := range av.ApiKeys {
			fmt.Printf("raw: advertised %s v%d-%d\n", kmsg.NameForKey(k.ApiKey), k.MinVersion, k.MaxVersion)
		}
	}
	for _, k := range av.ApiKeys {
		name := kmsg.NameForKey(k.ApiKey)
		proto := kmsg.RequestForKey(k.ApiKey)
		if proto == nil {
			problems = append(problems, fmt.Sprintf("key %d advertised v%d-%d is unknown to kmsg", k.ApiKey, k.MinVersion, k.MaxVersion))
			continue
		}
		if k.MaxVersion > proto.MaxVersion() {
			problems = append(problems, fmt.Sprintf("%s advertised up to v%d but kmsg knows only up to v%d (not checked above)", name, k.MaxVersion, proto.MaxVersion()))
		}
		top := min(k.MaxVersion, proto.MaxVersion())
		for v := k.MinVersion; v <= top; v++ {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			req := kmsg.RequestForKey(k.ApiKey)
			req.SetVersion(v)
			prepare(req, tg)
			requests++
			start := time.Now()
			resp, err := rc.roundTrip(req)
			if verbose() {
				fmt.Printf("raw: %s v%d: %v in %s\n", name, v, err, time.Since(start))
			}
			if err != nil && k.ApiKey == 0 && v < 3 {
				// Produce v0-2: advertised but refused by closing the
				// connection, as Kafka 4 does (KAFKA-18659: librdkafka before
				// 2.11.1 enables compression only if the range starts at 0).
				err = nil
				rc.c.Close()
				if rc, err = dialRaw(); err != nil {
					return err
				}
				continue
			}
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s v%d: %v", name, v, err))
				rc.c.Close()
				if rc, err = dialRaw(); err != nil {
					return err
				}
				continue
			}
			if dir := os.Getenv("FRANZGO_DUMP"); dir != "" {
				// For comparing answers with another broker's by hand.
				if js, err := json.MarshalIndent(resp, "", " "); err == nil {
					_ = os.WriteFile(fmt.Sprintf("%s/%s-v%d.json", dir, name, v), js, 0o644)
				}
			}
			var bad []string
			badCodes(reflect.ValueOf(resp), name, &bad)
			if err := checkContent(resp, tg); err != nil {
				bad = append(bad, err.Error())
			}
			if len(bad) > 0 {
				problems = append(problems, fmt.Sprintf("%s v%d answered %s", name, v, strings.Join(bad, ", ")))
			}
		}
	}
	if len(problems) > 0 && reference {
		for _, p := range problems {
			fmt.Printf("NOTE raw (reference broker): %s\n", p)
		}
		return nil
	}
	if len(problems) > 0 {
		return fmt.Errorf("%d of %d requests (%d API keys) not served as advertised:\n%s", len(problems), requests, len(av.ApiKeys), strings.Join(problems, "\n"))
	}
	if verbose() {
		fmt.Printf("raw: %d requests over %d API keys\n", requests, len(av.ApiKeys))
	}
	return nil
}

func verbose() bool { return envOr("VERBOSE", "") != "" }

// rawSetup creates the topic the raw requests read, with a few records and
// a committed group offset.
func rawSetup(ctx context.Context, t *T) (rawTarget, error) {
	tg := rawTarget{topic: t.uniq("t"), group: t.uniq("g"), txnID: t.uniq("txn")}
	adm, cl, err := newAdmin()
	if err != nil {
		return tg, err
	}
	defer cl.Close()
	if err := createTopic(ctx, adm, tg.topic, 1, nil); err != nil {
		return tg, err
	}
	if err := produceN(ctx, tg.topic, 1, 5, "raw"); err != nil {
		return tg, err
	}
	var os kadm.Offsets
	os.AddOffset(tg.topic, 0, 3, -1)
	if err := adm.CommitAllOffsets(ctx, tg.group, os); err != nil {
		return tg, err
	}
	td, err := adm.ListTopics(ctx, tg.topic)
	if err != nil {
		return tg, err
	}
	tg.id = td[tg.topic].ID
	return tg, nil
}

// checkContent checks the data-carrying answers really carry the topic's
// data at every version, so the probe is not satisfied by empty answers.
func checkContent(resp kmsg.Response, tg rawTarget) error {
	switch r := resp.(type) {
	case *kmsg.FetchResponse:
		if len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 {
			return fmt.Errorf("fetch answered %d topics", len(r.Topics))
		}
		p := r.Topics[0].Partitions[0]
		if p.ErrorCode != 0 || p.HighWatermark != 5 || len(p.RecordBatches) == 0 {
			return fmt.Errorf("fetch: error %d, high watermark %d, %d bytes of records", p.ErrorCode, p.HighWatermark, len(p.RecordBatches))
		}
	case *kmsg.ListOffsetsResponse:
		if len(r.Topics) != 1 || len(r.Topics[0].Partitions) != 1 {
			return fmt.Errorf("list offsets answered %d topics", len(r.Topics))
		}
		p := r.Topics[0].Partitions[0]
		off := p.Offset
		if r.Version == 0 { // v0 answers a list of offsets
			off = -1
			if len(p.OldStyleOffsets) == 1 {
				off = p.OldStyleOffsets[0]
			}
		}
		if p.ErrorCode != 0 || off != 5 {
			return fmt.Errorf("list offsets: error %d, offset %d, want 5", p.ErrorCode, off)
		}
	case *kmsg.MetadataResponse:
		if len(r.Topics) != 1 || r.Topics[0].ErrorCode != 0 || len(r.Topics[0].Partitions) != 1 || len(r.Brokers) != 1 {
			return fmt.Errorf("metadata: %d topics, %d brokers", len(r.Topics), len(r.Brokers))
		}
		if r.Version >= 10 && r.Topics[0].TopicID != tg.id {
			return fmt.Errorf("metadata: topic id %x, want %x", r.Topics[0].TopicID, tg.id)
		}
	case *kmsg.OffsetFetchResponse:
		var off int64 = -2
		if r.Version >= 8 {
			if len(r.Groups) == 1 && len(r.Groups[0].Topics) == 1 && len(r.Groups[0].Topics[0].Partitions) == 1 {
				off = r.Groups[0].Topics[0].Partitions[0].Offset
			}
		} else if len(r.Topics) == 1 && len(r.Topics[0].Partitions) == 1 {
			off = r.Topics[0].Partitions[0].Offset
		}
		if off != 3 {
			return fmt.Errorf("offset fetch: committed offset %d, want 3", off)
		}
	}
	return nil
}
