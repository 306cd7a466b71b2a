package queue

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestEnqueue(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("a duplicate delivery enqueues nothing", func(t *testing.T) { testDuplicateDelivery(t, b) })
			t.Run("a second request for a queued SHA reuses its job", func(t *testing.T) { testSameSHAReusesJob(t, b) })
			t.Run("bad input is refused before it reaches the queue", func(t *testing.T) { testBadInput(t, b) })
			t.Run("a burst of 1000 with 10 percent duplicates sent next to their originals makes exactly 900 jobs, all done", func(t *testing.T) { testBurst(t, b) })
		})
	}
}

func testDuplicateDelivery(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	first, err := q.EnqueuePRDiff(t.Context(), prArgs(1, "aaa", "d-1"))
	if err != nil {
		t.Fatal(err)
	}
	again, err := q.EnqueuePRDiff(t.Context(), prArgs(1, "aaa", "d-1"))
	if err != nil {
		t.Fatal(err)
	}
	cmdKey := "slack:1700000000:v0=abc"
	c1, err := q.EnqueueCommand(t.Context(), cmdKey, CommandArgs{TeamID: "T1", UserID: "U1", ResponseURL: "https://hooks.slack.test/r"})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := q.EnqueueCommand(t.Context(), cmdKey, CommandArgs{TeamID: "T1", UserID: "U1", ResponseURL: "https://hooks.slack.test/r"})
	if err != nil {
		t.Fatal(err)
	}
	got := []Enqueued{again, c2}
	want := []Enqueued{{Duplicate: true}, {Duplicate: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second enqueues (-want +got):\n%s", diff)
	}
	if first.JobID == 0 || c1.JobID == 0 {
		t.Errorf("first enqueues got no job: %+v %+v", first, c1)
	}
	if n := countRiverJobs(t, st, ""); n != 2 {
		t.Errorf("river holds %d jobs, want 2", n)
	}
}

func testSameSHAReusesJob(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	first, err := q.EnqueuePRDiff(t.Context(), prArgs(2, "bbb", "d-1"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := q.EnqueuePRDiff(t.Context(), prArgs(2, "bbb", "d-2"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Enqueued{JobID: first.JobID, Duplicate: true}, second); diff != "" {
		t.Errorf("second delivery of the same SHA (-want +got):\n%s", diff)
	}
	if n := countRiverJobs(t, st, ""); n != 1 {
		t.Errorf("river holds %d jobs, want 1", n)
	}
}

func testBadInput(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	q := newQueue(t, st, testConfig(t), Handlers{}, false)
	for _, a := range []PRDiffArgs{prArgs(0, "aaa", ""), {Repo: "no-slash", PR: 1, HeadSHA: "a"}, prArgs(1, "", "")} {
		_, err := q.EnqueuePRDiff(t.Context(), a)
		if !IsPermanent(err) {
			t.Errorf("EnqueuePRDiff(%+v) error = %v, want a permanent error", a, err)
		}
	}
	if _, err := q.EnqueueCommand(t.Context(), "", CommandArgs{}); !IsPermanent(err) {
		t.Errorf("EnqueueCommand of an empty command: error = %v, want a permanent error", err)
	}
	if n := countRiverJobs(t, st, ""); n != 0 {
		t.Errorf("river holds %d jobs, want 0", n)
	}
}

func testBurst(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	runner, pub := &fakeRunner{}, &fakePublisher{}
	cfg := testConfig(t)
	cfg.Workers = 8
	// The queue works while the burst arrives.
	q := newQueue(t, st, cfg, Handlers{Runner: runner, Publisher: pub}, true)

	// 900 distinct deliveries; every ninth is delivered a second time right
	// after the first, so that the two are enqueued concurrently.
	var deliveries []PRDiffArgs
	for i := range 900 {
		a := prArgs(1000+i, fmt.Sprintf("sha-%d", i), fmt.Sprintf("delivery-%d", i))
		deliveries = append(deliveries, a)
		if i%9 == 0 {
			deliveries = append(deliveries, a)
		}
	}
	start := time.Now()
	var (
		wg               sync.WaitGroup
		mu               sync.Mutex
		added, duplicate int
		errs             []error
	)
	work := make(chan PRDiffArgs)
	for range 16 {
		wg.Go(func() {
			for a := range work {
				res, err := q.EnqueuePRDiff(t.Context(), a)
				mu.Lock()
				switch {
				case err != nil:
					errs = append(errs, err)
				case res.Duplicate:
					duplicate++
				default:
					added++
				}
				mu.Unlock()
			}
		})
	}
	for _, a := range deliveries {
		work <- a
	}
	close(work)
	wg.Wait()
	enqueueTook := time.Since(start)
	if len(errs) > 0 {
		t.Fatalf("%d enqueues failed, first: %v", len(errs), errs[0])
	}
	if diff := cmp.Diff([]int{900, 100, 900}, []int{added, duplicate, countRiverJobs(t, st, "")}); diff != "" {
		t.Fatalf("added, duplicates, river jobs (-want +got):\n%s", diff)
	}
	waitFor(t, 2*time.Minute, "900 completed jobs", func() (bool, error) {
		return countRiverJobs(t, st, "completed") == 900, nil
	})
	n, err := st.CountReports(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if n != 900 {
		t.Errorf("store holds %d reports, want 900", n)
	}
	for k, v := range runner.counts() {
		if v != 1 {
			t.Errorf("%s ran %d times, want once", k, v)
		}
	}
	t.Logf("1000 enqueues (16 goroutines, queue running) took %s; all 900 jobs done after %s", enqueueTook, time.Since(start))
}
