package main

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// errorAnswers: requests a client gets wrong, answered with Kafka's error
// codes (each compared against Apache Kafka 4.1's answer): an empty group
// id, SyncGroup v5+ without protocol type/name, an unknown transactional id.
func errorAnswers(ctx context.Context, t *T) error {
	adm, cl, err := newAdmin()
	if err != nil {
		return err
	}
	defer cl.Close()
	topic := t.uniq("t")
	if err := createTopic(ctx, adm, topic, 1, nil); err != nil {
		return err
	}
	code := func(what string, got int16, want error) error {
		if got != want.(*kerr.Error).Code {
			return fmt.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(got), want)
		}
		return nil
	}

	od := kmsg.NewPtrOffsetDeleteRequest()
	odt := kmsg.NewOffsetDeleteRequestTopic()
	odp := kmsg.NewOffsetDeleteRequestTopicPartition()
	odt.Topic, odt.Partitions = topic, []kmsg.OffsetDeleteRequestTopicPartition{odp}
	od.Topics = []kmsg.OffsetDeleteRequestTopic{odt}
	odr, err := od.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("OffsetDelete: %w", err)
	}
	if err := code("OffsetDelete with group \"\"", odr.ErrorCode, kerr.InvalidGroupID); err != nil {
		return err
	}

	tc := kmsg.NewPtrTxnOffsetCommitRequest()
	tc.TransactionalID, tc.ProducerID, tc.ProducerEpoch = t.uniq("txn"), 1, 0
	tct := kmsg.NewTxnOffsetCommitRequestTopic()
	tcp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	tcp.Offset = 1
	tct.Topic, tct.Partitions = topic, []kmsg.TxnOffsetCommitRequestTopicPartition{tcp}
	tc.Topics = []kmsg.TxnOffsetCommitRequestTopic{tct}
	tcr, err := tc.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("TxnOffsetCommit: %w", err)
	}
	if len(tcr.Topics) != 1 || len(tcr.Topics[0].Partitions) != 1 {
		return fmt.Errorf("TxnOffsetCommit answered %+v", tcr)
	}
	if err := code("TxnOffsetCommit with group \"\"", tcr.Topics[0].Partitions[0].ErrorCode, kerr.InvalidGroupID); err != nil {
		return err
	}

	sg := kmsg.NewPtrSyncGroupRequest()
	sg.Group, sg.MemberID = t.uniq("g"), "m"
	sgr, err := sg.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("SyncGroup: %w", err)
	}
	if sgr.Version >= 5 {
		if err := code(fmt.Sprintf("SyncGroup v%d without protocol type and name", sgr.Version), sgr.ErrorCode, kerr.InconsistentGroupProtocol); err != nil {
			return err
		}
	}

	dt := kmsg.NewPtrDescribeTransactionsRequest()
	dt.TransactionalIDs = []string{t.uniq("unknown")}
	dtr, err := dt.RequestWith(ctx, cl)
	if err != nil {
		return fmt.Errorf("DescribeTransactions: %w", err)
	}
	if len(dtr.TransactionStates) != 1 {
		return fmt.Errorf("DescribeTransactions answered %+v", dtr)
	}
	st := dtr.TransactionStates[0]
	if err := code("DescribeTransactions of an unknown id", st.ErrorCode, kerr.TransactionalIDNotFound); err != nil {
		return err
	}
	if st.ProducerID != 0 || st.ProducerEpoch != 0 || st.StartTimestamp != 0 {
		return fmt.Errorf("DescribeTransactions of an unknown id: producer %d/%d start %d, want Kafka's zeros", st.ProducerID, st.ProducerEpoch, st.StartTimestamp)
	}
	return nil
}
