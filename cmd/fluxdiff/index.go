package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/klog/v2"

	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server"
)

// indexOptions are the flags of `fluxdiff index`.
type indexOptions struct {
	repo    string
	output  string
	timeout time.Duration
}

func newIndexCmd() *cobra.Command {
	var configPath string
	opts := indexOptions{}
	cmd := &cobra.Command{
		Use:   "index",
		Short: "List the Flux Kustomizations of every cluster and whether a pull request can be diffed against them",
		Long: `List, from the live clusters, every Flux Kustomization with its path, source,
repository, branch and status: "matched" when a pull request into that branch
can be diffed against it, or "not PR-diffable" and why (tag, semver or commit
refs, OCIRepository and Bucket sources, missing GitRepositories), with each
one's source chain, remote target (spec.kubeConfig) and identity
(spec.serviceAccountName).

The JSON output (-o json) is an object with two arrays:
  clusters:       [{name, synced, error?, errorSince?}]
  kustomizations: [{cluster, namespace, name, path, source: {kind, namespace, name},
                    suspended, url?, repo?, branch?, ignore?, artifact?, includes?,
                    sparseCheckout?, chain, target?, identity?, status, reason?}]
chain is the source chain (ExternalArtifact ← ArtifactGenerator ← GitRepository,
includes, sparse checkout); target is spec.kubeConfig's Secret or ConfigMap;
identity is spec.serviceAccountName as namespace/name.
status is "matched" or "not PR-diffable". The exit code is 2 when a cluster
could not be listed; what could be listed is printed anyway.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if opts.output != "table" && opts.output != "json" {
				return &codeError{code: exitError, err: fmt.Errorf("unknown output %q: use table or json", opts.output)}
			}
			cfg, err := config.Load(configPath, os.LookupEnv)
			if err != nil {
				return &codeError{code: exitError, err: err}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			// client-go would log every failed retry of a down cluster; the
			// status is printed instead.
			klog.SetSlogLogger(slog.New(slog.DiscardHandler))
			clusters := loadClusters(cfg.Clusters, slog.New(slog.DiscardHandler))
			return runIndex(ctx, cmd.OutOrStdout(), clusters, opts)
		},
	}
	cmd.Flags().StringVar(&configPath, "config", "", "YAML configuration file (optional)")
	cmd.Flags().StringVar(&opts.repo, "repo", "", "only Kustomizations built from this repository (any URL form)")
	cmd.Flags().StringVarP(&opts.output, "output", "o", "table", "output format: table or json")
	cmd.Flags().DurationVar(&opts.timeout, "timeout", 30*time.Second, "how long to wait for the clusters to be listed")
	return cmd
}

// startIndex starts the informers that keep the Git→cluster index current
// until ctx is done.
func startIndex(ctx context.Context, clusters []*kube.Cluster) *kube.Watcher {
	w := kube.NewWatcher(kube.NewIndex(), clusters)
	w.Start(ctx)
	return w
}

// clusterChecks are the /readyz checks of every cluster.
func clusterChecks(w *kube.Watcher) []server.Check {
	var checks []server.Check
	for _, s := range w.Status() {
		checks = append(checks, server.Check{Name: "cluster/" + s.Name, Run: func(ctx context.Context) error {
			return w.Check(ctx, s.Name)
		}})
	}
	return checks
}

// indexReport is the JSON shape of `fluxdiff index -o json`.
type indexReport struct {
	Clusters       []kube.ClusterStatus `json:"clusters"`
	Kustomizations []indexRow           `json:"kustomizations"`
}

type indexRow struct {
	*kube.Entry
	chainRow
	Status string `json:"status"`
}

func runIndex(ctx context.Context, out io.Writer, clusters []*kube.Cluster, opts indexOptions) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := startIndex(ctx, clusters)
	syncCtx, cancelSync := context.WithTimeout(ctx, opts.timeout)
	defer cancelSync()
	w.WaitForSync(syncCtx)

	rep := indexReport{Clusters: w.Status(), Kustomizations: []indexRow{}}
	for _, e := range w.Index().List(opts.repo) {
		rep.Kustomizations = append(rep.Kustomizations, indexRow{Entry: e, chainRow: chainOf(e), Status: rowStatus(e)})
	}
	var err error
	if opts.output == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeIndexTable(out, rep)
	}
	if err != nil {
		return err
	}
	if opts.repo != "" && len(rep.Kustomizations) == 0 && opts.output != "json" {
		fmt.Fprintf(out, "No Kustomization reads %s (normalized: %s). --repo takes the repository's URL as a GitRepository names it, e.g. https://github.com/owner/name; `fluxdiff index` without --repo lists every one.\n",
			opts.repo, kube.NormalizeRepoURL(opts.repo))
	}
	var down []string
	for _, s := range rep.Clusters {
		if !s.OK() {
			down = append(down, fmt.Sprintf("cluster %s: %s", s.Name, cmp.Or(s.Error, "not synced within "+opts.timeout.String())))
		}
	}
	if len(down) > 0 {
		return &codeError{code: exitError, err: fmt.Errorf("not every cluster could be listed:\n  %s", strings.Join(down, "\n  "))}
	}
	return nil
}

func rowStatus(e *kube.Entry) string {
	switch {
	case !e.Diffable():
		return "not PR-diffable"
	case e.Suspended:
		return "matched (suspended)"
	}
	return "matched"
}

func writeIndexTable(out io.Writer, rep indexReport) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLUSTER\tNAMESPACE\tNAME\tPATH\tSOURCE\tREPO\tBRANCH\tTARGET\tIDENTITY\tSTATUS")
	for _, r := range rep.Kustomizations {
		status := r.Status
		if r.Reason != "" {
			status += ": " + r.Reason
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Cluster, r.Namespace, r.Name, r.Path, r.Chain,
			cmp.Or(r.Repo, "-"), cmp.Or(r.Branch, "-"), cmp.Or(r.Target, "-"), cmp.Or(r.Identity, "-"), status)
	}
	return tw.Flush()
}
