package fluxsim

import (
	"context"
	"fmt"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Bootstrap says what `flux bootstrap` would have set up.
type Bootstrap struct {
	// URL is the repository's URL, e.g. https://github.com/acme/fleet.
	URL string
	// Branch is the branch the GitRepository follows.
	Branch string
	// Path is the cluster's folder, e.g. ./clusters/staging.
	Path string
	// Revision is the commit the cluster is at (status.lastAppliedRevision).
	Revision string
}

// BootstrapCluster creates the flux-system Namespace, GitRepository and
// Kustomization as `flux bootstrap` leaves them, then reconciles the
// Kustomization and every Kustomization it builds from the same source,
// from root. It returns the Kustomizations reconciled ("namespace/name").
func BootstrapCluster(ctx context.Context, c client.Client, root string, b Bootstrap) ([]string, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "flux-system"}}
	if err := c.Create(ctx, ns); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "flux-system", Namespace: "flux-system"},
		Spec: sourcev1.GitRepositorySpec{
			URL: b.URL, Interval: metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: b.Branch},
		},
	}
	if err := c.Create(ctx, repo); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("bootstrap: %w", err)
	}
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "flux-system", Namespace: "flux-system"},
		Spec: kustomizev1.KustomizationSpec{
			Path: b.Path, Prune: true, Interval: metav1.Duration{Duration: 10 * time.Minute},
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "flux-system"},
		},
	}
	return Reconcile(ctx, c, root, ks, Options{Revision: b.Branch + "@sha1:" + b.Revision, Recursive: true})
}
