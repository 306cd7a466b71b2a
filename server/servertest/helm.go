package servertest

import (
	"context"
	"fmt"
	"maps"
	"path/filepath"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff/helm/helmtest"
	"github.com/fluxdiff/fluxdiff/kube/fluxsim"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// PodinfoChart is the folder of the podinfo chart (6.9.2) in testdata, the
// chart of the example repository's podinfo HelmRelease.
func PodinfoChart() string {
	return filepath.Join(ModuleRoot(), "testdata", "charts", "podinfo")
}

// ChartGetter serves the podinfo chart the way the example repository's
// HelmRepository would (see helmtest.Getter); tests add more versions.
func ChartGetter() (*helmtest.Getter, error) {
	g := &helmtest.Getter{}
	if _, err := g.Add(PodinfoChart()); err != nil {
		return nil, err
	}
	return g, nil
}

// installReleases leaves the podinfo HelmRelease installed as
// helm-controller would (release Secret and applied objects, see
// fluxsim.InstallHelmRelease). The example's other HelmReleases
// (ingress-nginx, cert-manager) stay without a release: their charts are
// not in testdata.
//
// A fleet seeded from another repository (e.g. Generated) has no podinfo
// HelmRelease: nothing is installed then.
func installReleases(ctx context.Context, env *kubetest.Env) error {
	hr := &unstructured.Unstructured{}
	hr.SetAPIVersion("helm.toolkit.fluxcd.io/v2")
	hr.SetKind("HelmRelease")
	switch err := env.Client.Get(ctx, client.ObjectKey{Namespace: "podinfo", Name: "podinfo"}, hr); {
	case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
		return nil
	case err != nil:
		return fmt.Errorf("podinfo HelmRelease: %w", err)
	}
	ch, err := loader.LoadDir(PodinfoChart())
	if err != nil {
		return fmt.Errorf("podinfo chart: %w", err)
	}
	return fluxsim.InstallHelmRelease(ctx, env.Client, env.Config, "podinfo", "podinfo", ch)
}

// PodinfoRepository is the file of the example repository's podinfo
// HelmRepository (spec.url https://stefanprodan.github.io/podinfo).
const PodinfoRepository = "apps/base/podinfo/repository.yaml"

// WithPodinfoRepo returns a copy of files (the example repository's, see
// ReadTree) whose podinfo HelmRepository points at url, e.g. a ChartRepo's:
// bootstrapped from it, the clusters hold that HelmRepository live, as a
// cluster reconciled from a repository naming a reachable chart repository.
func WithPodinfoRepo(files map[string][]byte, url string) (map[string][]byte, error) {
	const old = "url: https://stefanprodan.github.io/podinfo"
	b, err := Edit(files, PodinfoRepository, old, "url: "+url)
	if err != nil {
		return nil, err
	}
	out := maps.Clone(files)
	out[PodinfoRepository] = b
	return out, nil
}
