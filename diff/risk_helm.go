package diff

import (
	"context"
	"fmt"
)

// What Helm does with the objects of a release, as the flags on
// HelmRelease-rendered objects say it. helm-controller upgrades a release
// with Helm 4's kube client (helm.sh/helm/v4 pkg/kube Client.Update): every
// rendered object is applied with server-side apply under helm-controller's
// field manager (patchResourceServerSide), the refusals are collected and
// fail the upgrade before anything is deleted; then each object of the
// current release's manifest that the new render lacks is deleted
// (originals.Difference(targets), propagation Background) unless it is
// annotated helm.sh/resource-policy: keep. Helm never deletes and
// re-creates an object whose field cannot change: with spec.upgrade.force
// it replaces it with a PUT (replaceResource), which the API server refuses
// alike. A failed upgrade is then remediated as the HelmRelease's
// spec.upgrade.remediation says (retries, rollback).
const (
	helmFailMessage = "the Helm upgrade will fail"
	helmDeletedBy   = "deleted by the Helm upgrade (it left the chart's render)"
)

// helmDeleteBlocked is the reason of a deletion when n objects of the
// upgrade fail: Helm's Client.Update returns the apply errors before it
// deletes anything.
func helmDeleteBlocked(n int) string {
	fail := "objects fail"
	if n == 1 {
		fail = "object fails"
	}
	return fmt.Sprintf("would be deleted after a successful upgrade; Helm deletes only once every object of the release applies, and %d %s here", n, fail)
}

// renderedRisks flags the objects of one HelmRelease's render from their
// dry-run results (changes[i] is the outcome of set.Objects[i], seen[i] what
// its dry-run saw; the changes past them are the release's deletions), with
// the rules of a Kustomization's objects as far as they apply to Helm:
//
//   - immutable: a refusal of a field that cannot change (the upgrade fails;
//     Helm has no re-creation, so recreateMessage never applies);
//   - deletion: a stateful or wide object the upgrade deletes (an object
//     kept by helm.sh/resource-policy is a skip, not a deletion; CRDs of the
//     chart's crds/ folder are not in the manifest and are never deleted);
//   - rbac and image: from the dry-run result against the live object.
//
// RiskIgnored has no counterpart: neither helm-controller nor Helm honours
// kustomize.toolkit.fluxcd.io/reconcile: disabled (or any annotation) on a
// rendered object, so every object of the render is applied. RiskSuspended
// and RiskDependency concern the Kustomization and stay on it; a suspended
// HelmRelease is not rendered (its warning says so). The flags carry the
// object's identity; diffHelm places them at the HelmRelease's manifest. A
// panic here is the HelmRelease's error (helm.Differ.Diff recovers).
func (r *run) renderedRisks(ctx context.Context, set RenderedSet, changes []Change, seen []*observation) []Risk {
	var out []Risk
	for i, ro := range set.Objects {
		if i >= len(changes) || i >= len(seen) {
			break
		}
		obj, c := ro.Object, changes[i]
		var flags []Risk
		switch c.Action {
		case ActionFailed:
			flags = immutableRisks(obj, c, seen[i], nil, helmFailMessage)
		case ActionCreated, ActionConfigured:
			after := seen[i].merged
			if after == nil {
				after = obj
			}
			flags = append(rbacRisks(after, seen[i].live), imageRisks(after, seen[i].live)...)
		}
		for _, f := range flags {
			f.APIVersion, f.ObjectKind, f.Namespace, f.Name = obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName()
			out = append(out, r.maskRisk(f))
		}
	}
	for _, c := range changes[min(len(set.Objects), len(changes)):] {
		if f, ok := r.deletionRisk(ctx, c, helmDeletedBy); ok {
			out = append(out, r.maskRisk(f))
		}
	}
	return out
}
