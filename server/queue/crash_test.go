package queue

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
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
	helperStoreEnv  = "FLUXDIFF_QUEUE_HELPER_STORE_URL"
	helperDirEnv    = "FLUXDIFF_QUEUE_HELPER_DIR"
	helperKillAtEnv = "FLUXDIFF_QUEUE_HELPER_KILL_AT"
)

// Where the first server hangs, to be killed there.
const (
	killInDiff      = "diff"      // while the diff runs
	killAfterSave   = "saved"     // after the report is saved, before publishing
	killMidPublish  = "publish"   // after the comment was created and recorded
	publishesFile   = "publishes" // one line per publish, "create" or "update"
	hangMarkerFile  = "hanging"   // written when the first server hangs
	helperStopAfter = 10 * time.Second
)

// TestHelperProcess is the "server" of the crash test; it does nothing in a
// normal test run. The first time it reaches its kill point it writes a
// marker file, so the parent knows when to kill it, and hangs; afterwards
// it goes through.
func TestHelperProcess(t *testing.T) {
	url := os.Getenv(helperStoreEnv)
	if url == "" {
		t.Skip("helper process of TestKilledServerFinishesTheJobAfterRestart")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	dir, killAt := os.Getenv(helperDirEnv), os.Getenv(helperKillAtEnv)
	hangOnce := func(at string) {
		if at != killAt {
			return
		}
		marker := filepath.Join(dir, hangMarkerFile)
		if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
			if err := os.WriteFile(marker, []byte(at+"\n"), 0o600); err != nil {
				t.Error(err)
			}
			<-make(chan struct{}) // hang, ignoring cancellation, until killed
		}
	}
	runner := &fakeRunner{run: func(_ context.Context, job PRJob) (Result, error) {
		hangOnce(killInDiff)
		return okResult(job), nil
	}}
	pub := &filePublisher{path: filepath.Join(dir, publishesFile), hang: hangOnce}
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
	q, err := New(ctx, st, cfg, Handlers{Runner: runner, Publisher: pub})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), helperStopAfter)
	defer cancel()
	if err := q.Stop(sctx); err != nil {
		t.Fatal(err)
	}
}

// filePublisher publishes like fakePublisher, and appends "create" or
// "update" to a file for each publish: the comment the parent process can
// see. hang is called after the report was saved ("saved") and after the
// comment was created and recorded ("publish").
type filePublisher struct {
	path string
	hang func(at string)
}

func (p *filePublisher) Publish(ctx context.Context, rep store.Report, refs Refs) error {
	p.hang(killAfterSave)
	key := fmt.Sprintf("%s#%d", rep.Repo, rep.PR)
	ref, err := refs.PublishedRef(ctx, store.RefPRComment, key)
	created := errors.Is(err, store.ErrNotFound)
	if err != nil && !created {
		return err
	}
	op := "update"
	if created {
		op = "create"
		ref = store.PublishedRef{Kind: store.RefPRComment, Key: key, ExternalID: fmt.Sprintf("comment-%d", rep.ID)}
	}
	f, err := os.OpenFile(p.path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, op); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	ref.ReportID = rep.ID
	if err := refs.SavePublishedRef(ctx, ref); err != nil {
		return err
	}
	p.hang(killMidPublish)
	return nil
}

func TestKilledServerFinishesTheJobAfterRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for river's leader lease of the killed process to expire (about 20s)")
	}
	// All six run at once: each mostly waits for the lease, and t.Parallel
	// would run only -test.parallel (GOMAXPROCS) of them at a time.
	var wg sync.WaitGroup
	for _, b := range storetest.Backends() {
		for _, tc := range []struct {
			name, killAt string
			published    []string
		}{
			{name: "killed while diffing", killAt: killInDiff, published: []string{"create"}},
			{name: "killed after saving the report", killAt: killAfterSave, published: []string{"create"}},
			// The restarted job publishes again and finds its comment.
			{name: "killed while publishing", killAt: killMidPublish, published: []string{"create", "update"}},
		} {
			wg.Go(func() {
				t.Run(b.Name+" "+tc.name, func(t *testing.T) { testKilledServer(t, b, tc.killAt, tc.published) })
			})
		}
	}
	wg.Wait()
}

func testKilledServer(t *testing.T, b storetest.Backend, killAt string, wantPublished []string) {
	url, dir := b.URL(t), t.TempDir()
	st := openStore(t, url)
	q := newQueue(t, st, testConfig(t), Handlers{}, false) // enqueues only
	res, err := q.EnqueuePRDiff(t.Context(), prArgs(30, "aaa", "d-30"))
	if err != nil {
		t.Fatal(err)
	}

	first := startHelper(t, url, dir, killAt)
	waitFor(t, 60*time.Second, "the first server to reach the kill point", func() (bool, error) {
		_, err := os.Stat(filepath.Join(dir, hangMarkerFile))
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
	second := startHelper(t, url, dir, killAt)
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

	raw, err := os.ReadFile(filepath.Join(dir, publishesFile))
	if err != nil {
		t.Fatal(err)
	}
	published := strings.Fields(string(raw))
	reports, err := st.Reports(t.Context(), "acme/infra", 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(reports) != 1 {
		t.Fatalf("store holds %d reports of the pull request, want 1 however often the job ran", len(reports))
	}
	ref, err := st.PublishedRef(t.Context(), store.RefPRComment, "acme/infra#30")
	if err != nil {
		t.Fatal(err)
	}
	head, err := st.Head(t.Context(), "acme/infra", 30)
	if err != nil {
		t.Fatal(err)
	}
	row, err := q.jobRow(t.Context(), res.JobID)
	if err != nil {
		t.Fatal(err)
	}
	got := []any{published, ref.ReportID, head.PublishedJobID, row.Attempt}
	want := []any{wantPublished, reports[0].ID, res.JobID, 2}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("publishes seen, report the comment shows, job recorded as published, attempts (-want +got):\n%s", diff)
	}
}

// startHelper starts TestHelperProcess on the store at url; its output is
// shown when the test fails.
func startHelper(t *testing.T, url, dir, killAt string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), helperStoreEnv+"="+url, helperDirEnv+"="+dir, helperKillAtEnv+"="+killAt)
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
