package diff

import (
	"sigs.k8s.io/controller-runtime/pkg/client"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
)

// A Kustomization may apply to another cluster than the one that holds it
// (spec.kubeConfig) or as another identity (spec.serviceAccountName).
// kustomize-controller then builds a second client for the apply
// (fluxcd/pkg runtime/client Impersonator.GetClient) and keeps its own for
// the rest (KustomizationReconciler.reconcile and build): the Kustomization
// object itself and its sources, the SOPS decryption keys, and the
// ConfigMaps and Secrets of postBuild.substituteFrom are read with the
// controller's own client in the cluster that holds the Kustomization;
// the apply (here: the dry-run), the reads of the live objects it compares
// and the prune of status.inventory entries go through the second client.
//
// Differ mirrors that: Client is the second client (the target cluster, as
// the impersonated identity), Management the controller's own. Nested
// Kustomizations found in a build are applied to Client's cluster and
// reconciled there, so their own reads go to Client too.

// Where names the cluster a Kustomization's objects go to in renderings:
// "cluster" when it applies to the cluster that holds it, "cluster → target"
// for a remote target ("target" alone when the holding cluster has no name).
func (k KustomizationReport) Where() string {
	switch {
	case k.Target == "":
		return k.Cluster
	case k.Cluster == "":
		return k.Target
	}
	return k.Cluster + " → " + k.Target
}

// management is the client for the reads kustomize-controller makes with its
// own identity on the cluster that holds the requested Kustomizations:
// Differ.Management, else Differ.Client.
func (d *Differ) management() client.Client {
	if d.Management != nil {
		return d.Management
	}
	return d.Client
}

// managementFor is management() for a Kustomization of the request, and
// Client for one found nested in a build (it lives where the build is
// applied).
func (r *run) managementFor(ks *kustomizev1.Kustomization) client.Client {
	if _, nested := r.nested.Load(keyOf(ks)); nested {
		return r.d.Client
	}
	return r.d.management()
}

// markNested records that ks was found in a build.
func (r *run) markNested(ks *kustomizev1.Kustomization) {
	r.nested.Store(keyOf(ks), true)
}
