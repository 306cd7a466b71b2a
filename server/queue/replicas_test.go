package queue

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/server/store"
	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestTwoReplicasOnPostgresRunEachJobExactlyOnce(t *testing.T) {
	url := storetest.PostgresURL(t)
	// Each replica has its own pool, river client and workers, as two
	// processes would; they share the database only, which is empty when
	// both start at once.
	var runners [2]*fakeRunner
	var queues [2]*Queue
	var wg sync.WaitGroup
	for i := range runners {
		runners[i] = &fakeRunner{}
		cfg := testConfig(t)
		cfg.Workers = 8
		wg.Go(func() {
			st, err := store.Open(t.Context(), url)
			if err != nil {
				t.Errorf("replica %d: open store: %v", i, err)
				return
			}
			t.Cleanup(st.Close)
			q, err := New(t.Context(), st, cfg, Handlers{Runner: runners[i], Publisher: &fakePublisher{}})
			if err != nil {
				t.Errorf("replica %d: new queue: %v", i, err)
				return
			}
			if err := q.Start(t.Context()); err != nil {
				t.Errorf("replica %d: start: %v", i, err)
				return
			}
			t.Cleanup(func() { stopQueue(t, q) })
			queues[i] = q
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	start := time.Now()
	var jobs int
	for i := range 500 {
		res, err := queues[i%2].EnqueuePRDiff(t.Context(), prArgs(5000+i, fmt.Sprintf("sha-%d", i), fmt.Sprintf("delivery-%d", i)))
		if err != nil {
			t.Fatal(err)
		}
		if !res.Duplicate {
			jobs++
		}
	}
	if jobs != 500 {
		t.Fatalf("enqueued %d jobs, want 500", jobs)
	}
	st := openStore(t, url)
	waitFor(t, 2*time.Minute, "500 completed jobs", func() (bool, error) {
		return countRiverJobs(t, st, "completed") == 500, nil
	})
	took := time.Since(start)
	var total int
	perReplica := [2]int{}
	ran := map[string]int{}
	for i, r := range runners {
		for k, v := range r.counts() {
			ran[k] += v
			perReplica[i] += v
			total += v
		}
	}
	if len(ran) != 500 || total != 500 {
		t.Errorf("%d distinct jobs ran %d times in all, want 500 once each", len(ran), total)
	}
	for k, v := range ran {
		if v != 1 {
			t.Errorf("%s ran %d times, want once", k, v)
		}
	}
	for i, n := range perReplica {
		if n == 0 {
			t.Errorf("replica %d ran no job (split %v)", i, perReplica)
		}
	}
	n, err := st.CountReports(t.Context())
	if err != nil || n != 500 {
		t.Errorf("store holds %d reports (%v), want 500", n, err)
	}
	t.Logf("500 jobs on two replicas: enqueue and work took %s; replica split %d/%d", took, perReplica[0], perReplica[1])
}

func TestReplicasStartingTogetherOnAnEmptyPostgres(t *testing.T) {
	url := storetest.PostgresURL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			st, err := store.Open(t.Context(), url)
			if err != nil {
				errs[i] = fmt.Errorf("replica %d: open store: %w", i, err)
				return
			}
			defer st.Close()
			if _, err := New(t.Context(), st, testConfig(t), Handlers{}); err != nil {
				errs[i] = fmt.Errorf("replica %d: new queue: %w", i, err)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}
