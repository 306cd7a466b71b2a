package queue

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/server/store"
	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

// The crash test runs the real store, queue and worker in a subprocess: this
// test binary again, entering TestHelperProcess.
const (
	helperStoreEnv = "FLUXDIFF_QUEUE_HELPER_STORE_URL"
	helperDirEnv   = "FLUXDIFF_QUEUE_HELPER_DIR"
)

// TestHelperProcess is the "server" of the crash test; it does nothing in a
// normal test run. Its diff hangs the first time (after writing a marker
// file, so the parent knows when to kill it) and succeeds afterwards.
func TestHelperProcess(t *testing.T) {
	url := os.Getenv(helperStoreEnv)
	if url == "" {
		t.Skip("helper process of TestKilledServerFinishesTheJobAfterRestart")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	marker := filepath.Join(os.Getenv(helperDirEnv), "started")
	runner := &fakeRunner{run: func(_ context.Context, job PRJob) (Result, error) {
		if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(marker, []byte("running\n"), 0o600); err != nil {
				return Result{}, err
			}
			<-make(chan struct{}) // hang, ignoring cancellation, until killed
		}
		return okResult(job), nil
	}}
	st, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cfg := Config{
		Logger:            slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo})),
		FetchPollInterval: 100 * time.Millisecond,
		// Short, so that the job orphaned by the kill is rescued soon.
		JobTimeout: 2 * time.Second, RescueStuckJobsAfter: 3 * time.Second,
	}
	q, err := New(ctx, st, cfg, Handlers{Runner: runner, Publisher: &fakePublisher{}})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.Stop(sctx); err != nil {
		t.Fatal(err)
	}
}

func TestKilledServerFinishesTheJobAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for river's leader lease of the killed process to expire (about 20s)")
	}
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			testKilledServer(t, b)
		})
	}
}

func testKilledServer(t *testing.T, b storetest.Backend) {
	url, dir := b.URL(t), t.TempDir()
	st := openStore(t, url)
	q := newQueue(t, st, testConfig(t), Handlers{}, false) // enqueues only
	res, err := q.EnqueuePRDiff(t.Context(), prArgs(30, "aaa", "d-30"))
	if err != nil {
		t.Fatal(err)
	}

	first := startHelper(t, url, dir)
	waitFor(t, 60*time.Second, "the first server to start the diff", func() (bool, error) {
		_, err := os.Stat(filepath.Join(dir, "started"))
		return err == nil, nil
	})
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	if s, err := q.JobState(t.Context(), res.JobID); err != nil || s != "running" {
		t.Fatalf("job state after the kill = %q, %v; want running (orphaned)", s, err)
	}

	start := time.Now()
	second := startHelper(t, url, dir)
	waitFor(t, 2*time.Minute, "the restarted server to complete the job", func() (bool, error) {
		s, err := q.JobState(t.Context(), res.JobID)
		return s == "completed", err
	})
	t.Logf("job completed %s after the restart", time.Since(start).Round(time.Millisecond))
	if err := second.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := second.Wait(); err != nil {
		t.Errorf("restarted server did not stop cleanly: %v", err)
	}

	reports, err := st.CountReports(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	refs, err := st.CountPublishedRefs(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	row, err := q.jobRow(t.Context(), res.JobID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{1, 1, 2}, []int{reports, refs, row.Attempt}); diff != "" {
		t.Errorf("reports, published refs, attempts (-want +got):\n%s", diff)
	}
}

// startHelper starts TestHelperProcess on the store at url; its output is
// shown when the test fails.
func startHelper(t *testing.T, url, dir string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), helperStoreEnv+"="+url, helperDirEnv+"="+dir)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("server process %d output:\n%s", cmd.Process.Pid, out.String())
		}
	})
	return cmd
}
