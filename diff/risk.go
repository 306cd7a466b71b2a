package diff

import (
	"fmt"
	"strconv"
)

// RiskKind names why a change is flagged (Risk.Kind). New kinds may be
// added to the JSON schema; a consumer should show an unknown kind as a
// warning.
type RiskKind string

// The risk kinds, in the order reports list them.
const (
	// RiskImmutable: the change touches a field the API server does not let
	// change (Deployment selector, Job template, Service clusterIP, ...):
	// Flux fails to apply it, or with force deletes and re-creates the object.
	RiskImmutable RiskKind = "immutable"
	// RiskDeletion: a stateful or wide object (PersistentVolumeClaim,
	// PersistentVolume, Namespace, CustomResourceDefinition, StatefulSet) is
	// deleted by prune or by a deleted Kustomization's finalizer.
	RiskDeletion RiskKind = "deletion"
	// RiskSuspended: the Kustomization that would apply the change is
	// suspended; nothing applies until it is resumed.
	RiskSuspended RiskKind = "suspended"
	// RiskDependency: a Kustomization in spec.dependsOn is missing or not
	// ready, so Flux waits before applying the change.
	RiskDependency RiskKind = "dependency"
	// RiskIgnored: the object carries kustomize.toolkit.fluxcd.io/reconcile:
	// disabled, so Flux ignores what the change does to it.
	RiskIgnored RiskKind = "ignored"
	// RiskRBAC: a ClusterRole or Role newly grants "*" verbs or resources or
	// access to Secrets, or a ClusterRoleBinding newly binds cluster-admin.
	RiskRBAC RiskKind = "rbac"
	// RiskImage: a container image reference changes. Listed for the
	// reviewer, not counted as a risk (Risk.Warning is false).
	RiskImage RiskKind = "image"
)

// riskOrder is the display order of the kinds.
var riskOrder = map[RiskKind]int{RiskImmutable: 0, RiskDeletion: 1, RiskRBAC: 2, RiskSuspended: 3, RiskDependency: 4, RiskIgnored: 5, RiskImage: 6}

// Risk is one flag on one object of a Kustomization's diff, computed from
// the dry-run result and the live objects (never from the diff text).
type Risk struct {
	// Kind says which rule flagged the object.
	Kind RiskKind `json:"kind"`
	// APIVersion, ObjectKind, Namespace and Name identify the flagged object
	// (for RiskSuspended and RiskDependency, the Kustomization itself).
	APIVersion string `json:"apiVersion"`
	ObjectKind string `json:"objectKind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Field is the path of the field concerned in the object, e.g.
	// "spec.selector" or "spec.template.spec.containers[web].image"; empty
	// when the flag is about the object as a whole.
	Field string `json:"field,omitempty"`
	// Old and New are the field's live and merged values as compact JSON (a
	// string value unquoted); either is empty when the value is absent.
	// Values that hold a secret are masked.
	Old string `json:"old,omitempty"`
	New string `json:"new,omitempty"`
	// Message is one line saying what Flux will do and why it matters, e.g.
	// "Flux will fail to apply this: spec.selector is immutable".
	Message string `json:"message"`
	// File and Line locate the object's manifest in the source tree (a path
	// relative to the source root, 1-based line); for an object that left
	// the build, the Kustomization's kustomization.yaml. Empty when unknown.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`
}

// Warning reports whether the flag counts as a risk: every kind but
// RiskImage, which is a listing.
func (r Risk) Warning() bool { return r.Kind != RiskImage }

// ObjectID is "Kind/namespace/name" (or "Kind/name" when cluster-scoped),
// like Change.ID.
func (r Risk) ObjectID() string {
	return Change{Kind: r.ObjectKind, Namespace: r.Namespace, Name: r.Name}.ID()
}

// Summary is the flag in one line: the object, then the message.
func (r Risk) Summary() string {
	return r.ObjectID() + ": " + r.Message
}

// BlastRadius sums up a report in the numbers a reviewer reads first.
type BlastRadius struct {
	// Clusters counts the distinct clusters of the report's Kustomizations
	// (a local diff's unnamed cluster counts as one).
	Clusters int `json:"clusters"`
	// Kustomizations counts the report's Kustomizations, nested and failed
	// ones included.
	Kustomizations int `json:"kustomizations"`
	// Created, Changed (configured) and Deleted count objects: those of the
	// Kustomizations' builds and those of the HelmReleases rendered (which
	// helm-controller applies), the latter also counted in HelmCreated,
	// HelmChanged and HelmDeleted.
	Created int `json:"created"`
	Changed int `json:"changed"`
	Deleted int `json:"deleted"`
	// RiskFlags counts the risks (Risk.Warning), HelmReleases' included;
	// Images counts the image changes listed besides.
	RiskFlags int `json:"riskFlags"`
	Images    int `json:"images"`
	// HelmReleases counts the HelmRelease sections of the report (rendered,
	// or failed to render).
	HelmReleases int `json:"helmReleases"`
	// HelmCreated, HelmChanged and HelmDeleted count the objects of rendered
	// HelmReleases that Helm would create, change or delete.
	HelmCreated int `json:"helmCreated"`
	HelmChanged int `json:"helmChanged"`
	HelmDeleted int `json:"helmDeleted"`
}

// BlastRadius computes the report's blast radius.
func (r *Report) BlastRadius() BlastRadius {
	var b BlastRadius
	clusters := map[string]bool{}
	for _, k := range r.Kustomizations {
		clusters[k.Cluster] = true
		b.Kustomizations++
		b.Created += k.Counts.Created
		b.Changed += k.Counts.Configured
		b.Deleted += k.Counts.Deleted
		b.flags(k.Risks)
		for _, h := range k.HelmReleases {
			b.HelmReleases++
			b.HelmCreated += h.Counts.Created
			b.HelmChanged += h.Counts.Configured
			b.HelmDeleted += h.Counts.Deleted
			b.flags(h.Risks)
		}
	}
	b.Created += b.HelmCreated
	b.Changed += b.HelmChanged
	b.Deleted += b.HelmDeleted
	b.Clusters = len(clusters)
	return b
}

func (b *BlastRadius) flags(risks []Risk) {
	for _, f := range risks {
		if f.Warning() {
			b.RiskFlags++
		} else {
			b.Images++
		}
	}
}

// String is the blast-radius line: "N clusters, M Kustomizations, X
// created, Y changed, Z deleted, K risk flags", each object count followed
// by the part of it in HelmReleases when there is one, e.g. "5 changed (3
// in HelmReleases)".
func (b BlastRadius) String() string {
	return b.line(true)
}

// Short is the line without the HelmRelease parts, for a title; the totals
// are the same.
func (b BlastRadius) Short() string {
	return b.line(false)
}

func (b BlastRadius) line(parts bool) string {
	objects := func(n, helm int, verb string) string {
		s := strconv.Itoa(n) + " " + verb
		if parts && helm > 0 {
			s += " (" + strconv.Itoa(helm) + " in HelmReleases)"
		}
		return s
	}
	return fmt.Sprintf("%s, %s, %s, %s, %s, %s",
		count(b.Clusters, "cluster"), count(b.Kustomizations, "Kustomization"),
		objects(b.Created, b.HelmCreated, "created"), objects(b.Changed, b.HelmChanged, "changed"),
		objects(b.Deleted, b.HelmDeleted, "deleted"), count(b.RiskFlags, "risk flag"))
}

// count is "1 word" or "n words".
func count(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

// Risks lists every flag of the report, warnings first in kind order, then
// the image changes, each group in report order (a Kustomization's own flags,
// then those of its HelmReleases); cluster, Kustomization and HelmRelease
// are given with each.
func (r *Report) Risks() []ReportRisk {
	var all []ReportRisk
	for _, k := range r.Kustomizations {
		ks := k.Namespace + "/" + k.Name
		for _, f := range k.Risks {
			all = append(all, ReportRisk{Risk: f, Cluster: k.Cluster, Kustomization: ks})
		}
		for _, h := range k.HelmReleases {
			for _, f := range h.Risks {
				all = append(all, ReportRisk{Risk: f, Cluster: k.Cluster, Kustomization: ks, HelmRelease: h.Namespace + "/" + h.Name})
			}
		}
	}
	var out []ReportRisk
	for order := 0; order < len(riskOrder); order++ {
		for _, f := range all {
			if at, ok := riskOrder[f.Kind]; at == order && ok || !ok && order == len(riskOrder)-1 {
				out = append(out, f)
			}
		}
	}
	return out
}

// ReportRisk is a Risk with the cluster and the Kustomization
// ("namespace/name") it was found in, and the HelmRelease ("namespace/name")
// whose rendered object it flags, empty for the Kustomization's own objects.
type ReportRisk struct {
	Risk
	Cluster       string
	Kustomization string
	HelmRelease   string
}
