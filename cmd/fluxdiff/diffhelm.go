package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/diff/helm"
	"github.com/fluxdiff/fluxdiff/kube"
)

func newDiffHelmReleaseCmd() *cobra.Command {
	o := &diffOptions{helm: true}
	var hrNamespace string
	cmd := &cobra.Command{
		Use:     "helmrelease NAME --kustomization KS --path DIR",
		Aliases: []string{"hr"},
		Short:   "Render a HelmRelease built from a local folder and diff its objects against the cluster",
		Long: `Build the Flux Kustomization KS (which holds the HelmRelease NAME) from a local
folder as 'diff kustomization' does, render NAME as helm-controller would (chart,
valuesFrom and values, post-renderers) and compare the rendered objects with the
cluster using a server-side apply dry-run with helm-controller's field manager.
Objects of the current release that the new render drops are deletions.

Exit status: 0 when nothing would change, 1 when something would change,
2 on any error.`,
		Example: `  fluxdiff diff helmrelease podinfo -n podinfo --kustomization apps --path ./apps/staging`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.helmOnly = hrNamespace + "/" + args[0]
			return runDiffKustomization(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o.ksName, o)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&hrNamespace, "namespace", "n", "flux-system", "namespace of the HelmRelease")
	f.StringVar(&o.ksName, "kustomization", "", "name of the Kustomization whose build holds the HelmRelease (required)")
	f.StringVar(&o.namespace, "kustomization-namespace", "flux-system", "namespace of the Kustomization")
	f.StringVar(&o.path, "path", "", "local folder that matches the Kustomization's spec.path (required)")
	f.StringVar(&o.root, "root", "", "local folder that corresponds to the source's root")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.kubeContext, "context", "", "kubeconfig context (default: the current one)")
	f.StringVar(&o.ksFile, "kustomization-file", "", "YAML file with the Kustomization, for one not yet in the cluster")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text, markdown or json")
	f.IntVar(&o.concurrency, "concurrency", diff.DefaultConcurrency, "parallel dry-run requests")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	addTenancyFlags(f, o)
	_ = cmd.MarkFlagRequired("path")
	_ = cmd.MarkFlagRequired("kustomization")
	return cmd
}

// helmDiffer is the HelmRelease renderer for a local diff, nil with
// --helm=false. Discovery or the release-storage client failing leaves
// Helm's defaults and no current release.
func helmDiffer(cl *kube.Cluster, c client.Client, o *diffOptions) diff.HelmDiffer {
	if !o.helm {
		return nil
	}
	hd := &helm.Differ{Live: c, Getter: newChartGetter(), Only: o.helmOnly}
	if cs, err := kubernetes.NewForConfig(cl.Config); err == nil {
		hd.Clientset = cs
	}
	if caps, err := helm.Discover(cl.Config); err == nil {
		hd.Capabilities = caps
	}
	return hd
}

// onlyHelmRelease keeps, in a report of `diff helmrelease`, the
// Kustomization rows with their HelmRelease section only.
func onlyHelmRelease(rep *diff.Report, only string) error {
	ns, name, _ := strings.Cut(only, "/")
	for i := range rep.Kustomizations {
		for _, h := range rep.Kustomizations[i].HelmReleases {
			if h.Namespace == ns && h.Name == name {
				k := &rep.Kustomizations[i]
				k.Changes, k.Counts = []diff.Change{}, diff.Counts{}
				k.HelmReleases = []diff.HelmReleaseReport{h}
				rep.Kustomizations = []diff.KustomizationReport{*k}
				return nil
			}
		}
	}
	return fmt.Errorf("HelmRelease %s is not in the build of the Kustomization", only)
}
