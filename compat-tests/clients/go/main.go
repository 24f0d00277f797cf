// Command franzgo drives a Kafka-protocol broker (Skiff) with franz-go
// (kgo, kadm and raw kmsg requests) and prints `PASS <scenario>` or
// `FAIL <scenario>: <reason>` per scenario; it exits 1 if any failed.
//
// The broker address comes from SKIFF_BOOTSTRAP (default localhost:9092).
// Arguments select scenarios by name (default: all but those in namedOnly,
// which need a broker set up for them). VERBOSE=1 logs the
// client's own debug output to stderr.
package main

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"runtime/debug"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

type scenario struct {
	name string
	run  func(ctx context.Context, t *T) error
}

// T carries a scenario's name, for unique topic/group names.
type T struct {
	name string
}

var bootstrap = envOr("SKIFF_BOOTSTRAP", "localhost:9092")

const scenarioLimit = 60 * time.Second

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

var runID = fmt.Sprintf("%d-%04d", time.Now().Unix(), rand.Intn(10000))

// uniq names a topic, group or transactional id so re-runs against the same
// broker never see an earlier run's state.
func (t *T) uniq(what string) string {
	return fmt.Sprintf("franzgo-%s-%s-%s", t.name, what, runID)
}

func scenarios() []scenario {
	var s []scenario
	for _, c := range []string{"none", "gzip", "snappy", "lz4", "zstd"} {
		c := c
		s = append(s, scenario{"produce-consume-" + c, func(ctx context.Context, t *T) error { return produceConsume(ctx, t, c) }})
	}
	s = append(s,
		scenario{"idempotent-producer", idempotentProducer},
		scenario{"consumer-group-cooperative-sticky", func(ctx context.Context, t *T) error {
			return consumerGroup(ctx, t, kgo.CooperativeStickyBalancer())
		}},
		scenario{"consumer-group-range", func(ctx context.Context, t *T) error {
			return consumerGroup(ctx, t, kgo.RangeBalancer())
		}},
		scenario{"consumer-group-kip848", func(ctx context.Context, t *T) error {
			return consumerGroup(ctx, t, kgo.CooperativeStickyBalancer(), kgo.ServerSideBalancer())
		}},
		scenario{"consumer-group-static-member", consumerGroupStatic},
		scenario{"fetch-long-poll-wakes", fetchLongPollWakes},
		scenario{"txn-consume-transform-produce", txnConsumeTransformProduce},
		scenario{"txn-abort", txnAbort},
		scenario{"txn-fencing", txnFencing},
		scenario{"admin-topics", adminTopics},
		scenario{"admin-configs", adminConfigs},
		scenario{"admin-groups-offsets", adminGroupsOffsets},
		scenario{"admin-list-offsets-delete-records", adminListOffsets},
		scenario{"admin-log-dirs-producers-transactions", adminLogDirsProducersTxns},
		scenario{"raw-every-advertised-version", rawEveryVersion},
		scenario{"kafka-error-answers", errorAnswers},
		scenario{"share-group", shareGroupScenario},
	)
	return s
}

// namedOnly are scenarios that run only when named: they need a broker set
// up for them (kip848.go: a short heartbeat interval, a driver that restarts it).
func namedOnly() []scenario {
	return []scenario{
		{"kip848-three-members", kip848ThreeMembers},
		{"kip848-new-partition", kip848NewPartition},
		{"kip848-regex", kip848Regex},
		{"kip848-restart", kip848Restart},
	}
}

func main() {
	all := scenarios()
	if len(os.Args) > 1 {
		all = append(all, namedOnly()...)
	}
	want := map[string]bool{}
	for _, a := range os.Args[1:] {
		want[a] = true
	}
	var chosen []scenario
	for _, s := range all {
		if len(os.Args) == 1 || want[s.name] {
			chosen = append(chosen, s)
		}
		delete(want, s.name)
	}
	for name := range want {
		fmt.Printf("FAIL %s: no such scenario\n", name)
		os.Exit(1)
	}

	// Scenarios use disjoint topics/groups, so they run concurrently: most of
	// their time is spent waiting on the broker (rebalances, linger, fetch waits).
	var mu sync.Mutex
	failed := 0
	var wg sync.WaitGroup
	for _, s := range chosen {
		wg.Add(1)
		go func(s scenario) {
			defer wg.Done()
			start := time.Now()
			err := runOne(s)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				failed++
				fmt.Printf("FAIL %s: %s\n", s.name, strings.ReplaceAll(err.Error(), "\n", "\n    "))
			} else {
				fmt.Printf("PASS %s (%.1fs)\n", s.name, time.Since(start).Seconds())
			}
		}(s)
	}
	wg.Wait()
	if failed > 0 {
		os.Exit(1)
	}
}

func runOne(s scenario) (err error) {
	ctx, cancel := context.WithTimeout(context.Background(), scenarioLimit)
	defer cancel()
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	err = s.run(ctx, &T{name: s.name})
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("timed out after %s", scenarioLimit)
	}
	return err
}

// ---- helpers ----

func newClient(opts ...kgo.Opt) (*kgo.Client, error) {
	// A short metadata min age: scenarios wait on fresh metadata (new
	// partitions, deleted topics), which kgo otherwise rate-limits to 5s.
	base := []kgo.Opt{kgo.SeedBrokers(strings.Split(bootstrap, ",")...), kgo.MetadataMinAge(100 * time.Millisecond)}
	if os.Getenv("VERBOSE") != "" {
		base = append(base, kgo.WithLogger(kgo.BasicLogger(os.Stderr, kgo.LogLevelDebug, nil)))
	}
	return kgo.NewClient(append(base, opts...)...)
}

func newAdmin() (*kadm.Client, *kgo.Client, error) {
	cl, err := newClient()
	if err != nil {
		return nil, nil, err
	}
	return kadm.NewClient(cl), cl, nil
}

func createTopic(ctx context.Context, adm *kadm.Client, topic string, partitions int32, configs map[string]*string) error {
	resp, err := adm.CreateTopic(ctx, partitions, 1, configs, topic)
	if err != nil {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	if resp.Err != nil {
		return fmt.Errorf("create topic %s: %w (%s)", topic, resp.Err, resp.ErrMessage)
	}
	return waitTopicReady(ctx, adm, topic, partitions)
}

// waitTopicReady waits until metadata shows the topic with its partitions
// led: Kafka answers CreateTopics before every broker's metadata has the
// topic, so this lets the scenarios run against Kafka as well.
func waitTopicReady(ctx context.Context, adm *kadm.Client, topic string, partitions int32) error {
	return waitUntil(ctx, "topic "+topic+" in metadata", func() (bool, error) {
		td, err := adm.ListTopics(ctx, topic)
		if err != nil {
			return false, err
		}
		d, ok := td[topic]
		if !ok || d.Err != nil || len(d.Partitions) != int(partitions) {
			return false, nil
		}
		for _, p := range d.Partitions {
			if p.Leader < 0 || p.Err != nil {
				return false, nil
			}
		}
		return true, nil
	})
}

// reference is set when the broker is not Skiff but the reference peer
// (real Kafka via SKIFF_TEST_BOOTSTRAP): checks of Skiff's own promises
// (every advertised version served) then report instead of failing.
var reference = os.Getenv("FRANZGO_REFERENCE") != ""

// consumeExact reads exactly n records from the given topics with a direct
// (non-group) consumer from the start, then waits briefly to catch extras.
func consumeExact(ctx context.Context, n int, opts ...kgo.Opt) ([]*kgo.Record, error) {
	cl, err := newClient(append([]kgo.Opt{kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200 * time.Millisecond)}, opts...)...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	return pollN(ctx, cl, n)
}

// pollN polls until n records arrived, then polls once more for a short
// while so that a surplus (duplicates, aborted records) is noticed.
func pollN(ctx context.Context, cl *kgo.Client, n int) ([]*kgo.Record, error) {
	var out []*kgo.Record
	for len(out) < n {
		f := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return out, fmt.Errorf("got %d of %d records before the deadline", len(out), n)
		}
		if err := fetchErr(f); err != nil {
			return out, err
		}
		out = append(out, f.Records()...)
	}
	extraCtx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	f := cl.PollFetches(extraCtx)
	out = append(out, f.Records()...)
	if len(out) != n {
		return out, fmt.Errorf("expected exactly %d records, got %d", n, len(out))
	}
	return out, nil
}

func fetchErr(f kgo.Fetches) error {
	var errs []string
	f.EachError(func(t string, p int32, err error) {
		if err == context.Canceled || err == context.DeadlineExceeded {
			return
		}
		errs = append(errs, fmt.Sprintf("%s[%d]: %v", t, p, err))
	})
	if len(errs) > 0 {
		return fmt.Errorf("fetch errors: %s", strings.Join(errs, "; "))
	}
	return nil
}

func sortedKeys[V any](m map[int32]V) []int32 {
	var ks []int32
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}
