package main

// KIP-848 groups (kgo.ServerSideBalancer: the broker assigns) beyond the
// two-member case in group.go: three members and a leave, a partition added
// later, a broker-side regex subscription picking up a topic created later,
// and a broker restart the members ride through with their epochs kept.
// The Rust driver (compat-tests/franz_go.rs) runs them against a broker
// with a 500 ms consumer heartbeat interval, so that each reconciliation
// step takes well under a second.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type tp struct {
	topic string
	part  int32
}

// member848 tracks what one consumer owns (from the rebalance callbacks)
// and how often each record value reached it.
type member848 struct {
	cl    *kgo.Client
	mu    sync.Mutex
	owned map[tp]bool
	seen  map[string]int
	lost  int
	err   error
}

func newMember848(group string, opts ...kgo.Opt) (*member848, error) {
	m := &member848{owned: map[tp]bool{}, seen: map[string]int{}}
	update := func(add, lost bool) func(context.Context, *kgo.Client, map[string][]int32) {
		return func(_ context.Context, _ *kgo.Client, ps map[string][]int32) {
			m.mu.Lock()
			defer m.mu.Unlock()
			for t, parts := range ps {
				for _, p := range parts {
					if add {
						m.owned[tp{t, p}] = true
					} else {
						delete(m.owned, tp{t, p})
					}
				}
				if lost {
					m.lost += len(parts)
				}
			}
		}
	}
	cl, err := newClient(append([]kgo.Opt{
		kgo.ConsumerGroup(group),
		kgo.ServerSideBalancer(),
		kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(200 * time.Millisecond),
		kgo.OnPartitionsAssigned(update(true, false)),
		kgo.OnPartitionsRevoked(update(false, false)),
		kgo.OnPartitionsLost(update(false, true)),
	}, opts...)...)
	if err != nil {
		return nil, err
	}
	m.cl = cl
	return m, nil
}

func (m *member848) poll(ctx context.Context) {
	for ctx.Err() == nil {
		f := m.cl.PollFetches(ctx)
		err := fetchErr(f)
		m.mu.Lock()
		if err != nil {
			m.err = err
			m.mu.Unlock()
			return
		}
		for _, r := range f.Records() {
			if !m.owned[tp{r.Topic, r.Partition}] {
				m.err = fmt.Errorf("consumed %s[%d] which it does not own", r.Topic, r.Partition)
			}
			m.seen[string(r.Value)]++
		}
		m.mu.Unlock()
	}
}

// group848 is a set of members polling in the background.
type group848 struct {
	members []*member848
	stop    context.CancelFunc
	wg      sync.WaitGroup
}

func startGroup848(ctx context.Context, group string, n int, opts ...kgo.Opt) (*group848, error) {
	pollCtx, stop := context.WithCancel(ctx)
	g := &group848{stop: stop}
	for i := 0; i < n; i++ {
		m, err := newMember848(group, opts...)
		if err != nil {
			g.close()
			return nil, err
		}
		g.members = append(g.members, m)
		g.wg.Add(1)
		go func() { defer g.wg.Done(); m.poll(pollCtx) }()
	}
	return g, nil
}

func (g *group848) close() {
	g.stop()
	g.wg.Wait()
	for _, m := range g.members {
		m.cl.Close()
	}
}

// leave stops member i's polling and closes it (a KIP-848 leave: epoch -1).
func (g *group848) leave(i int) {
	m := g.members[i]
	g.members = append(g.members[:i:i], g.members[i+1:]...)
	m.cl.Close()
}

// split reports whether the members own disjoint, non-empty shares that
// together are exactly want; it fails on a member error.
func (g *group848) split(want []tp) (bool, error) {
	union := map[tp]bool{}
	for i, m := range g.members {
		m.mu.Lock()
		err, owned := m.err, len(m.owned)
		for t := range m.owned {
			if union[t] {
				m.mu.Unlock()
				return false, nil
			}
			union[t] = true
		}
		m.mu.Unlock()
		if err != nil {
			return false, fmt.Errorf("member %d: %w", i+1, err)
		}
		if owned == 0 {
			return false, nil
		}
	}
	if len(union) != len(want) {
		return false, nil
	}
	for _, t := range want {
		if !union[t] {
			return false, nil
		}
	}
	return true, nil
}

func (g *group848) describe() string {
	var s []string
	for i, m := range g.members {
		m.mu.Lock()
		var ts []string
		for t := range m.owned {
			ts = append(ts, fmt.Sprintf("%s[%d]", t.topic, t.part))
		}
		m.mu.Unlock()
		sort.Strings(ts)
		s = append(s, fmt.Sprintf("member %d owns %v", i+1, ts))
	}
	return fmt.Sprint(s)
}

// deliveryCounts sums, per record value, how often it reached the members.
func deliveryCounts(ms []*member848) map[string]int {
	total := map[string]int{}
	for _, m := range ms {
		m.mu.Lock()
		for v, n := range m.seen {
			total[v] += n
		}
		m.mu.Unlock()
	}
	return total
}

// seenAll reports whether every value reached some member (a member that
// left counts: its deliveries happened).
func seenAll(ms []*member848, values []string) bool {
	total := deliveryCounts(ms)
	for _, v := range values {
		if total[v] == 0 {
			return false
		}
	}
	return true
}

// deliveries checks that every record value reached the members exactly
// once in all, and that there were want of them.
func deliveries(ms []*member848, want int) error {
	total := deliveryCounts(ms)
	for v, n := range total {
		if n > 1 {
			return fmt.Errorf("record %s delivered %d times", v, n)
		}
	}
	if len(total) != want {
		return fmt.Errorf("%d distinct records delivered, want %d", len(total), want)
	}
	return nil
}

func (g *group848) waitSplit(ctx context.Context, what string, want []tp) error {
	if err := waitUntil(ctx, what, func() (bool, error) { return g.split(want) }); err != nil {
		return fmt.Errorf("%w (%s)", err, g.describe())
	}
	return nil
}

func (g *group848) commitAll(ctx context.Context) error {
	for i, m := range g.members {
		if err := m.cl.CommitUncommittedOffsets(ctx); err != nil {
			return fmt.Errorf("member %d commit: %w", i+1, err)
		}
	}
	return nil
}

func partitionsOf(topic string, n int32) []tp {
	var out []tp
	for p := int32(0); p < n; p++ {
		out = append(out, tp{topic, p})
	}
	return out
}

// produce848 writes perPartition records to each of the partitions,
// values tagged so each is unique; it returns the values.
func produce848(ctx context.Context, topic string, partitions int32, tag string, perPartition int) ([]string, error) {
	p, err := newClient(kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		return nil, err
	}
	defer p.Close()
	var rs []*kgo.Record
	var values []string
	for part := int32(0); part < partitions; part++ {
		for i := 0; i < perPartition; i++ {
			v := fmt.Sprintf("%s-%s-%d-%d", topic, tag, part, i)
			values = append(values, v)
			rs = append(rs, &kgo.Record{Partition: part, Value: []byte(v)})
		}
	}
	if err := p.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		return nil, fmt.Errorf("produce to %s: %w", topic, err)
	}
	return values, nil
}

func waitSeen(ctx context.Context, what string, ms []*member848, values []string) error {
	return waitUntil(ctx, what, func() (bool, error) {
		for i, m := range ms {
			m.mu.Lock()
			err := m.err
			m.mu.Unlock()
			if err != nil {
				return false, fmt.Errorf("member %d: %w", i+1, err)
			}
		}
		return seenAll(ms, values), nil
	})
}

// kip848ThreeMembers: three members split six partitions and consume each
// record once; one leaves and the other two take its partitions over at
// once (a leave heartbeat, not a session timeout) and go on from the commits.
func kip848ThreeMembers(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic, group := t.uniq("t"), t.uniq("g")
	if err := createTopic(ctx, adm, topic, 6, nil); err != nil {
		return err
	}
	all := partitionsOf(topic, 6)
	g, err := startGroup848(ctx, group, 3, kgo.ConsumeTopics(topic))
	if err != nil {
		return err
	}
	defer g.close()
	everyone := append([]*member848(nil), g.members...)
	if err := g.waitSplit(ctx, "three members splitting six partitions", all); err != nil {
		return err
	}
	first, err := produce848(ctx, topic, 6, "a", 10)
	if err != nil {
		return err
	}
	if err := waitSeen(ctx, "the first 60 records consumed", everyone, first); err != nil {
		return err
	}
	if err := g.commitAll(ctx); err != nil {
		return err
	}
	left := time.Now()
	g.leave(2)
	// Kafka's default session timeout is 45 s: taking over within 15 s
	// shows the leave was acted on, not the member's expiry.
	takeover, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := g.waitSplit(takeover, "the two remaining members taking over the leaver's partitions", all); err != nil {
		return err
	}
	took := time.Since(left)
	second, err := produce848(ctx, topic, 6, "b", 10)
	if err != nil {
		return err
	}
	if err := waitSeen(ctx, "the next 60 records consumed by the two", g.members, second); err != nil {
		return err
	}
	if err := deliveries(everyone, 120); err != nil {
		return err
	}
	fmt.Printf("NOTE kip848-three-members: takeover after a leave in %.1fs\n", took.Seconds())
	return nil
}

// kip848NewPartition: partitions added to a subscribed topic are assigned
// to the members, which consume them.
func kip848NewPartition(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic, group := t.uniq("t"), t.uniq("g")
	if err := createTopic(ctx, adm, topic, 2, nil); err != nil {
		return err
	}
	g, err := startGroup848(ctx, group, 2, kgo.ConsumeTopics(topic))
	if err != nil {
		return err
	}
	defer g.close()
	if err := g.waitSplit(ctx, "two members splitting two partitions", partitionsOf(topic, 2)); err != nil {
		return err
	}
	resp, err := adm.CreatePartitions(ctx, 2, topic)
	if err != nil {
		return fmt.Errorf("create partitions: %w", err)
	}
	if r := resp[topic]; r.Err != nil {
		return fmt.Errorf("create partitions: %w (%s)", r.Err, r.ErrMessage)
	}
	if err := g.waitSplit(ctx, "the two new partitions assigned", partitionsOf(topic, 4)); err != nil {
		return err
	}
	values, err := produce848(ctx, topic, 4, "a", 10)
	if err != nil {
		return err
	}
	if err := waitSeen(ctx, "40 records over four partitions consumed", g.members, values); err != nil {
		return err
	}
	return deliveries(g.members, 40)
}

// kip848Regex: a regex subscription (kgo.ConsumeRegex sends it to the
// broker as subscribed_topic_regex) is resolved by the broker, which also
// assigns a matching topic created after the members joined.
func kip848Regex(ctx context.Context, t *T) error {
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	prefix, group := t.uniq("t"), t.uniq("g")
	first, second := prefix+"-one", prefix+"-two"
	if err := createTopic(ctx, adm, first, 2, nil); err != nil {
		return err
	}
	g, err := startGroup848(ctx, group, 2, kgo.ConsumeRegex(), kgo.ConsumeTopics("^"+prefix+"-.*"))
	if err != nil {
		return err
	}
	defer g.close()
	if err := g.waitSplit(ctx, "two members splitting the matching topic", partitionsOf(first, 2)); err != nil {
		return err
	}
	if err := createTopic(ctx, adm, second, 2, nil); err != nil {
		return err
	}
	both := append(partitionsOf(first, 2), partitionsOf(second, 2)...)
	if err := g.waitSplit(ctx, "the topic created later assigned too", both); err != nil {
		return err
	}
	values, err := produce848(ctx, second, 2, "a", 10)
	if err != nil {
		return err
	}
	if err := waitSeen(ctx, "the later topic's records consumed", g.members, values); err != nil {
		return err
	}
	described, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		return fmt.Errorf("describe: %w", err)
	}
	d := described[group]
	if d.Err != nil {
		return fmt.Errorf("describe: %w", d.Err)
	}
	for _, m := range d.Members {
		if m.SubscribedTopicRegex == nil {
			return fmt.Errorf("member %s described without its regex", m.MemberID)
		}
	}
	return deliveries(g.members, 20)
}

// epochs848 reads the group's state, its epoch and its members' epochs.
func epochs848(ctx context.Context, adm *kadm.Client, group string) (string, map[string]int32, error) {
	described, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		return "", nil, err
	}
	d := described[group]
	if d.Err != nil {
		return "", nil, d.Err
	}
	e := map[string]int32{"group": d.Epoch}
	for _, m := range d.Members {
		e[m.MemberID] = m.MemberEpoch
	}
	return d.State, e, nil
}

func waitStable848(ctx context.Context, adm *kadm.Client, group string) (map[string]int32, error) {
	var epochs map[string]int32
	err := waitUntil(ctx, "the group Stable", func() (bool, error) {
		state, e, err := epochs848(ctx, adm, group)
		if err != nil {
			return false, nil // the coordinator may be loading
		}
		epochs = e
		return state == "Stable", nil
	})
	return epochs, err
}

// kip848Restart: two members consume and commit, then ask the driver
// (SKIFF_RESTART_DIR) to restart the broker: writing `stop` there, the
// driver answers with `started`. The members keep polling through it and
// consume what is produced after it with the same group and member epochs
// (no rejoin), no record delivered twice, no partition lost.
func kip848Restart(ctx context.Context, t *T) error {
	dir := os.Getenv("SKIFF_RESTART_DIR")
	if dir == "" {
		return fmt.Errorf("SKIFF_RESTART_DIR is not set: the driver restarts the broker")
	}
	adm, acl, err := newAdmin()
	if err != nil {
		return err
	}
	defer acl.Close()
	topic, group := t.uniq("t"), t.uniq("g")
	if err := createTopic(ctx, adm, topic, 4, nil); err != nil {
		return err
	}
	all := partitionsOf(topic, 4)
	g, err := startGroup848(ctx, group, 2, kgo.ConsumeTopics(topic))
	if err != nil {
		return err
	}
	defer g.close()
	if err := g.waitSplit(ctx, "two members splitting four partitions", all); err != nil {
		return err
	}
	// Produced after the split: what a first member read before the second
	// joined would be read again by the second (nothing committed it).
	first, err := produce848(ctx, topic, 4, "a", 10)
	if err != nil {
		return err
	}
	if err := waitSeen(ctx, "the first 40 records consumed", g.members, first); err != nil {
		return err
	}
	if err := g.commitAll(ctx); err != nil {
		return err
	}
	before, err := waitStable848(ctx, adm, group)
	if err != nil {
		return err
	}
	if len(before) != 3 {
		return fmt.Errorf("described %v, want the group epoch and two members", before)
	}
	if err := os.WriteFile(filepath.Join(dir, "stop"), []byte("stop"), 0o644); err != nil {
		return err
	}
	if err := waitUntil(ctx, "the driver to restart the broker", func() (bool, error) {
		_, err := os.Stat(filepath.Join(dir, "started"))
		return err == nil, nil
	}); err != nil {
		return err
	}
	second, err := produce848(ctx, topic, 4, "b", 10)
	if err != nil {
		return err
	}
	if err := waitSeen(ctx, "the 40 records produced after the restart consumed", g.members, second); err != nil {
		return err
	}
	if ok, err := g.split(all); !ok || err != nil {
		return fmt.Errorf("after the restart the members do not split the partitions (%v; %s)", err, g.describe())
	}
	if err := g.commitAll(ctx); err != nil {
		return err
	}
	after, err := waitStable848(ctx, adm, group)
	if err != nil {
		return err
	}
	fmt.Printf("NOTE kip848-restart: epochs before %v, after %v\n", before, after)
	if fmt.Sprint(before) != fmt.Sprint(after) {
		return fmt.Errorf("epochs changed across the restart: before %v, after %v", before, after)
	}
	for i, m := range g.members {
		m.mu.Lock()
		lost := m.lost
		m.mu.Unlock()
		if lost > 0 {
			return fmt.Errorf("member %d lost %d partitions across the restart (a rejoin)", i+1, lost)
		}
	}
	return deliveries(g.members, 80)
}
