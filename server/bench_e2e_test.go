package server_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
	"github.com/fluxdiff/fluxdiff/kube/scheme"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// benchRepo is the generated repository of the end-to-end benchmark: 100
// app Kustomizations under a root one, sharing 5 components; c0 is used by
// app-000 … app-009.
var benchRepo = servertest.Generated{Cluster: "prod", Apps: 100, Components: 5, FirstComponentApps: 10}

// benchChangedApp is the app the benchmark's pull request changes besides
// component c0; it uses another component.
const benchChangedApp = 50

// BenchmarkPullRequestEndToEnd measures a signed pull_request webhook until
// the check run is completed and the sticky comment published, on a real
// API server holding the generated repository as kustomize-controller
// leaves it (101 Kustomizations) and the GitHub stand-in, for a pull request
// that changes one app and the component that 10 other apps use:
//
//   - cold: a fresh fluxdiff (empty source, selection and build caches), the
//     pull request's first push;
//   - warm: the same fluxdiff, a second push changing the same two files
//     again; it asserts that only the 11 affected Kustomizations are built
//     (build cache misses) and dry-run (PATCH ?dryRun=All by namespace);
//   - baseline, in the same run: the engine called once per indexed
//     Kustomization (101) on the first push's merge tree, without selection,
//     as a person running `flux diff kustomization` for each would.
//
// FLUXDIFF_BENCH_CPUPROFILE=FILE writes a CPU profile of the cold and warm
// pushes only (not of the fleet's setup or the baseline).
func BenchmarkPullRequestEndToEnd(b *testing.B) {
	dir := b.TempDir()
	if err := benchRepo.Write(dir); err != nil {
		b.Fatal(err)
	}
	f, err := servertest.StartFleet(b.Context(), b, dir, benchRepo.Cluster)
	if err != nil {
		kubetest.Unavailable(b, err)
	}
	want := affectedRows()
	var cold, warm, base time.Duration
	var warmBuilds int64
	pr := 0
	for b.Loop() {
		pr++
		w := newBenchWorld(b, f)
		stopProfile := startProfile(b)
		head := f.Open(servertest.PR{Number: pr, Title: "bump web and c0", Changes: benchChanges("6.5.1", "2")})
		cold += w.push(b, pr, head, true)
		w.checkRows(b, pr, want, "cold")
		w.dryRuns.reset()
		before := w.builds.Stats()
		head = f.Open(servertest.PR{Number: pr, Changes: benchChanges("6.5.2", "3")})
		warm += w.push(b, pr, head, false)
		stopProfile()
		after := w.builds.Stats()
		warmBuilds += after.Builds - before.Builds
		w.checkRows(b, pr, want, "warm")
		w.checkWork(b, after.Builds-before.Builds, w.dryRuns.reset())
		base += baseline(b, f, w.watcher, benchChanges("6.5.1", "2"))
		w.stop()
	}
	n := float64(pr)
	ms := func(d time.Duration) float64 { return float64(d.Milliseconds()) / n }
	b.ReportMetric(ms(cold), "cold-ms")
	b.ReportMetric(ms(warm), "warm-ms")
	b.ReportMetric(ms(base), "baseline-ms")
	b.ReportMetric(float64(base)/float64(warm), "baseline/warm")
	b.ReportMetric(float64(base)/float64(cold), "baseline/cold")
	b.ReportMetric(float64(warmBuilds)/n, "warm-builds")
}

// benchChanges is the pull request: the changed app's image tag and
// component c0's ConfigMap version.
func benchChanges(tag, version string) map[string][]byte {
	return map[string][]byte{
		"apps/" + servertest.AppName(benchChangedApp) + "/deployment.yaml": servertest.AppDeployment(tag),
		"components/c0/configmap.yaml":                                     []byte(servertest.ComponentConfigMap(0, version)),
	}
}

// affectedRows are the report rows the pull request must have: the apps
// of component c0 and the changed app.
func affectedRows() []string {
	var out []string
	for i := range benchRepo.Apps {
		if benchRepo.ComponentOf(i) == 0 || i == benchChangedApp {
			out = append(out, benchRepo.Cluster+"/flux-system/"+servertest.AppName(i))
		}
	}
	return out
}

// checkRows fails unless the newest report of pr has exactly the rows want.
func (w *benchWorld) checkRows(b *testing.B, pr int, want []string, which string) {
	reps, err := w.store.Reports(context.Background(), servertest.Repo, pr)
	if err != nil || len(reps) == 0 {
		b.Fatalf("%s: no report of #%d: %v", which, pr, err)
	}
	var rep diff.Report
	if err := json.Unmarshal(reps[len(reps)-1].Body, &rep); err != nil {
		b.Fatal(err)
	}
	if d := cmp.Diff(want, servertest.Rows(rep)); d != "" {
		b.Fatalf("%s: Kustomizations diffed (-want +got):\n%s", which, d)
	}
	for _, k := range rep.Kustomizations {
		if k.Error != "" || k.Counts.Configured == 0 {
			b.Fatalf("%s: %s: error %q, counts %+v; want configured objects", which, k.Name, k.Error, k.Counts)
		}
	}
}

// checkWork fails unless the warm push built exactly the 11 affected
// Kustomizations and dry-ran objects of exactly their namespaces.
func (w *benchWorld) checkWork(b *testing.B, builds int64, dryRuns map[string]int) {
	want := len(affectedRows())
	if builds != int64(want) {
		b.Errorf("warm push built %d Kustomizations, want %d", builds, want)
	}
	var got, wantNS []string
	for ns := range dryRuns {
		got = append(got, ns)
	}
	for i := range benchRepo.Apps {
		if benchRepo.ComponentOf(i) == 0 || i == benchChangedApp {
			wantNS = append(wantNS, servertest.AppName(i))
		}
	}
	slices.Sort(got)
	if d := cmp.Diff(wantNS, got); d != "" {
		b.Errorf("warm push dry-ran in namespaces (-want +got):\n%s", d)
	}
}

// baseline diffs every indexed Kustomization of the repository once, on
// the merge tree of changes, with the engine and no selection, and returns
// how long that took.
func baseline(b *testing.B, f *servertest.Fleet, watcher *kube.Watcher, changes map[string][]byte) time.Duration {
	root := b.TempDir()
	for p, body := range f.Base {
		if c, ok := changes[p]; ok {
			body = c
		}
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(full, body, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	entries := watcher.Lookup(f.GitHub.HTMLURL(servertest.Repo)+".git", "main").Entries
	if len(entries) != benchRepo.Apps+1 {
		b.Fatalf("index holds %d Kustomizations of the repository, want %d", len(entries), benchRepo.Apps+1)
	}
	cfg := rest.CopyConfig(f.Envs[benchRepo.Cluster].Config)
	cfg.QPS, cfg.Burst = 50, 100
	c, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	d := &diff.Differ{Client: c, Cluster: benchRepo.Cluster}
	for _, e := range entries {
		ks := &kustomizev1.Kustomization{}
		if err := c.Get(ctx, client.ObjectKey{Namespace: e.Namespace, Name: e.Name}, ks); err != nil {
			b.Fatal(err)
		}
		rep, err := d.Diff(ctx, diff.Request{Root: root, Kustomization: ks, Ignore: e.Ignore})
		if err != nil || rep.Kustomizations[0].Error != "" {
			b.Fatalf("baseline diff of %s: %v %+v", e.Name, err, rep)
		}
	}
	return time.Since(start)
}

// startProfile starts a CPU profile into $FLUXDIFF_BENCH_CPUPROFILE, when
// set, and returns what stops it.
func startProfile(b *testing.B) func() {
	path := os.Getenv("FLUXDIFF_BENCH_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	fh, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(fh); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		fh.Close()
	}
}
