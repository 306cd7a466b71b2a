package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
	"github.com/fluxdiff/fluxdiff/server/servertest"
)

func newDemoCmd() *cobra.Command {
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole pull request flow locally, with no accounts",
		Long: `Run fluxdiff's whole pull request flow on this machine, with no accounts and
no network: two local Kubernetes control planes (staging and production)
bootstrapped from Flux's official example repository as Flux leaves them, a
local GitHub stand-in holding that repository, and the real fluxdiff server.
The demo opens a pull request that changes the shared apps/base/podinfo and a
staging-only value, sends GitHub's signed webhook, and prints the sticky
comment and the check run that fluxdiff published, with the podinfo
HelmRelease rendered. Its chart comes from a local Helm repository on a
loopback port that the example's podinfo HelmRepository is pointed at;
the demo's configuration allows chart fetches to reach that address alone
(helm.allowedCIDRs: 127.0.0.1/32; loopback is refused by default).

It needs kube-apiserver and etcd: KUBEBUILDER_ASSETS, or it builds them with
hack/testbin/build.sh (cached; the first build takes 8-20 minutes on two
cores). Run it from a fluxdiff checkout.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if err := runDemo(ctx, cmd.OutOrStdout(), cmd.ErrOrStderr(), keep); err != nil {
				return &codeError{code: exitError, err: err}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&keep, "keep", false, "keep everything running after the first pull request (Ctrl-C stops it)")
	cmd.AddCommand(newDemoPRCmd())
	return cmd
}

// demoReporter receives the GitHub stand-in's complaints (a request
// fluxdiff should not have made) and runs the clean-ups at the end.
type demoReporter struct {
	out      io.Writer
	problems []string
	cleanups []func()
}

func (r *demoReporter) Helper() {}
func (r *demoReporter) Errorf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.problems = append(r.problems, msg)
	fmt.Fprintln(r.out, "github stand-in:", msg)
}
func (r *demoReporter) Fatalf(format string, args ...any) { r.Errorf(format, args...) }
func (r *demoReporter) Cleanup(f func())                  { r.cleanups = append(r.cleanups, f) }

func (r *demoReporter) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func runDemo(ctx context.Context, out, errOut io.Writer, keep bool) error {
	start := time.Now()
	step := func(format string, args ...any) {
		fmt.Fprintf(out, "[%5.1fs] %s\n", time.Since(start).Seconds(), fmt.Sprintf(format, args...))
	}
	if _, err := os.Stat(servertest.ExampleRepo()); err != nil {
		return fmt.Errorf("the demo needs the fluxdiff checkout it was built from (its testdata): run `go run ./cmd/fluxdiff demo` in one: %w", err)
	}
	if err := ensureTestBinaries(ctx, out, errOut); err != nil {
		return err
	}
	rep := &demoReporter{out: errOut}
	defer rep.cleanup()
	dir, err := os.MkdirTemp("", "fluxdiff-demo-")
	if err != nil {
		return err
	}
	if !keep {
		defer os.RemoveAll(dir)
	}
	fleet, charts, err := startDemoFleet(ctx, rep, step, dir)
	if err != nil {
		return err
	}
	// The pull request's author and the repository's owner may comment
	// "/flux-diff" on the demo's pull requests (--keep).
	fleet.GitHub.SetPermission(servertest.Repo, "octocat", "write")
	fleet.GitHub.SetPermission(servertest.Repo, servertest.Owner, "admin")
	srv, err := startDemoServer(ctx, rep, fleet, charts, dir)
	if err != nil {
		return err
	}
	defer srv.stop()
	step("fluxdiff serve is up on %s (log: %s); it renders HelmReleases, with helm.allowedCIDRs [%s] so that chart fetches reach the local repository (loopback addresses are refused otherwise)",
		srv.url, srv.logPath, charts.CIDR())
	if err := demoPullRequest(ctx, out, step, fleet, srv); err != nil {
		return fmt.Errorf("%w (fluxdiff's log: %s)", err, srv.logPath)
	}
	if len(rep.problems) > 0 {
		return fmt.Errorf("the GitHub stand-in refused %d requests (see above)", len(rep.problems))
	}
	if keep {
		repo, err := serveKeep(ctx, fleet, srv, dir)
		if err != nil {
			return err
		}
		printKeep(out, fleet, srv, dir, repo)
		<-ctx.Done()
	}
	return nil
}

// ensureTestBinaries points KUBEBUILDER_ASSETS at kube-apiserver and etcd,
// building them with hack/testbin/build.sh when they are missing.
func ensureTestBinaries(ctx context.Context, out, errOut io.Writer) error {
	a := os.Getenv("KUBEBUILDER_ASSETS")
	if a != "" && isExecutable(filepath.Join(a, "kube-apiserver")) && isExecutable(filepath.Join(a, "etcd")) {
		return nil
	}
	if a != "" {
		fmt.Fprintf(out, "KUBEBUILDER_ASSETS=%s holds no kube-apiserver and etcd; ", a)
	}
	script := filepath.Join(servertest.ModuleRoot(), "hack", "testbin", "build.sh")
	if !isExecutable(script) {
		return errors.New(kubetest.HowToGetBinaries)
	}
	fmt.Fprintln(out, "finding or building kube-apiserver and etcd (cached; a first build takes 8-20 minutes on two cores)...")
	cmd := exec.CommandContext(ctx, script)
	cmd.Stderr = errOut
	b, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("build the test binaries with %s: %w", script, err)
	}
	return os.Setenv("KUBEBUILDER_ASSETS", strings.TrimSpace(string(b)))
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}
