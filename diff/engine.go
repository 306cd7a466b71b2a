package diff

import (
	"context"
	"errors"
	"fmt"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager is the field manager kustomize-controller applies with; the
// dry-run uses the same so that ownership and pruning of fields match.
const FieldManager = "kustomize-controller"

// Defaults for Differ.
const (
	DefaultConcurrency = 8
	DefaultMaxDepth    = 10
)

// Differ diffs Kustomizations against one cluster.
type Differ struct {
	// Client reaches the cluster; it needs get on everything built and
	// patch (dry-run only) on it.
	Client client.Client
	// Cluster names the cluster in reports.
	Cluster string
	// Concurrency bounds parallel dry-runs; zero means DefaultConcurrency.
	Concurrency int
	// MaxDepth bounds recursion into nested Kustomizations; zero means
	// DefaultMaxDepth.
	MaxDepth int
}

// Request says what to diff.
type Request struct {
	// Root is the source tree: the repository at the commit to diff.
	Root string
	// Kustomization gives the spec (path, patches, postBuild...) and, from
	// the live object, the inventory for prune.
	Kustomization *kustomizev1.Kustomization
	// Recursive diffs Kustomizations found in the build that use the same
	// source, with the spec from the build.
	Recursive bool
	// Ignore holds extra .sourceignore patterns (GitRepository spec.ignore).
	Ignore string
}

// Diff builds the requested Kustomization and compares it with the cluster.
// Problems with the Kustomization or single objects are part of the Report;
// the error is reserved for a cancelled context or an invalid request.
func (d *Differ) Diff(ctx context.Context, req Request) (*Report, error) {
	if req.Kustomization == nil || req.Root == "" {
		return nil, errors.New("diff: a source root and a Kustomization are required")
	}
	rep := &Report{SchemaVersion: SchemaVersion, Created: time.Now().UTC()}
	queue := []nested{{ks: req.Kustomization}}
	seen := map[string]bool{}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		key := n.ks.Namespace + "/" + n.ks.Name
		if seen[key] {
			continue // a cycle, or the same child reached twice
		}
		seen[key] = true
		if n.parent != "" {
			d.adoptLiveStatus(ctx, n.ks)
		}
		kr, children, err := d.diffOne(ctx, req, n)
		if err != nil {
			return nil, err
		}
		if req.Recursive {
			if n.depth >= d.maxDepth() && len(children) > 0 {
				kr.Warnings = append(kr.Warnings, fmt.Sprintf("nested Kustomizations beyond depth %d are not diffed", d.maxDepth()))
			} else {
				for _, c := range children {
					queue = append(queue, nested{ks: c, parent: key, depth: n.depth + 1})
				}
			}
		}
		rep.Kustomizations = append(rep.Kustomizations, kr)
	}
	return rep, nil
}

// nested is one Kustomization waiting to be diffed.
type nested struct {
	ks     *kustomizev1.Kustomization
	parent string
	depth  int
}

func (d *Differ) maxDepth() int {
	if d.MaxDepth > 0 {
		return d.MaxDepth
	}
	return DefaultMaxDepth
}

func (d *Differ) concurrency() int {
	if d.Concurrency > 0 {
		return d.Concurrency
	}
	return DefaultConcurrency
}

// diffOne diffs one Kustomization and returns the nested Kustomizations its
// build contains.
func (d *Differ) diffOne(ctx context.Context, req Request, n nested) (KustomizationReport, []*kustomizev1.Kustomization, error) {
	ks := n.ks
	kr := KustomizationReport{
		Cluster: d.Cluster, Namespace: ks.Namespace, Name: ks.Name, Path: ks.Spec.Path,
		Source: sourceString(ks), Parent: n.parent, Changes: []Change{},
	}
	fail := func(err error) (KustomizationReport, []*kustomizev1.Kustomization, error) {
		if ctx.Err() != nil {
			return kr, nil, ctx.Err()
		}
		kr.Error = err.Error()
		return kr, nil, nil
	}
	objs, err := Build(req.Root, ks, BuildOptions{Ignore: req.Ignore})
	if err != nil {
		return fail(err)
	}
	subst, err := loadSubstitution(ctx, d.Client, ks)
	if err != nil {
		return fail(fmt.Errorf("post build: %w", err))
	}
	if objs, err = subst.apply(ctx, objs); err != nil {
		return fail(err)
	}
	if err := normalize.UnstructuredList(objs); err != nil {
		return fail(fmt.Errorf("normalize: %w", err))
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautils.SetCommonMetadata(objs, cm.Labels, cm.Annotations)
	}
	rm := ssa.NewResourceManager(d.Client, nil, ssa.Owner{Field: FieldManager, Group: kustomizev1.GroupVersion.Group})
	rm.SetOwnerLabels(objs, ks.Name, ks.Namespace)

	sc := &scrubber{}
	if subst != nil {
		sc.add(subst.secretValues...)
	}
	changes, err := d.dryRunAll(ctx, rm, ks, objs)
	if err != nil {
		return fail(err)
	}
	deleted, err := d.deletions(ctx, ks, objs)
	if err != nil {
		return fail(err)
	}
	changes = append(changes, deleted...)
	for i := range changes {
		changes[i].Diff = sc.scrub(changes[i].Diff)
		changes[i].Reason = sc.scrub(changes[i].Reason)
		kr.Counts.add(changes[i].Action)
	}
	kr.Changes = changes
	return kr, childKustomizations(ks, objs), nil
}

// sourceString is the sourceRef as Kind/namespace/name.
func sourceString(ks *kustomizev1.Kustomization) string {
	ref := ks.Spec.SourceRef
	if ref.Name == "" {
		return ""
	}
	ns := ref.Namespace
	if ns == "" {
		ns = ks.Namespace
	}
	return ref.Kind + "/" + ns + "/" + ref.Name
}

// changeFor starts a Change describing obj.
func changeFor(obj *unstructured.Unstructured, a Action) Change {
	return Change{Action: a, APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(), Name: obj.GetName()}
}

// adoptLiveStatus copies the live Kustomization's status (its inventory, for
// prune) onto a Kustomization taken from a build. A Kustomization that does
// not exist yet keeps an empty status.
func (d *Differ) adoptLiveStatus(ctx context.Context, ks *kustomizev1.Kustomization) {
	live := &kustomizev1.Kustomization{}
	if err := d.Client.Get(ctx, client.ObjectKeyFromObject(ks), live); err == nil {
		ks.Status = live.Status
	}
}
