package diff

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	"github.com/fluxcd/pkg/ssa/normalize"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
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
	// LiveListMin is the fewest objects of one kind in one namespace of a
	// build whose live objects are read with one LIST rather than one GET
	// each (see liveReads); zero means DefaultLiveListMin, negative reads
	// every object on its own.
	LiveListMin int
	// MaxDepth bounds recursion into nested Kustomizations; zero means
	// DefaultMaxDepth.
	MaxDepth int
	// Management and Target are set for Kustomizations that apply
	// elsewhere than where they live (a remote target, or another identity):
	// see target.go.
	Management client.Client
	Target     string
	// Builds, when set, reuses builds of unchanged inputs (see BuildCache);
	// nil builds every time.
	Builds *BuildCache
	// Helm, when set, renders and diffs the HelmReleases of each build
	// (see HelmDiffer); nil leaves HelmReleases as plain objects.
	Helm HelmDiffer
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
	// More are further Kustomizations from the same source tree and cluster
	// to diff in the same run (the pull request pipeline passes every one it
	// selected); one without a status.inventory takes the live one. All are
	// diffed in the order kustomize-controller applies them (see schedule),
	// so that each sees the Namespaces, CRDs and substituteFrom ConfigMaps
	// and Secrets that the builds before it create or change.
	More []*kustomizev1.Kustomization
	// Base is the source tree of the base branch, optional. When set, every
	// Kustomization is diffed at Base too, against the same cluster, and
	// each change is classified as the pull request's or drift (see
	// Change.Class and classify.go).
	Base string

	// keep, when set, collects what classification needs (diffWithBase).
	keep *kept
}

// Diff builds the requested Kustomization and compares it with the cluster.
// Problems with the Kustomization or single objects are part of the Report;
// the error is reserved for a cancelled context or an invalid request.
func (d *Differ) Diff(ctx context.Context, req Request) (*Report, error) {
	if req.Kustomization == nil || req.Root == "" || slices.Contains(req.More, nil) {
		return nil, errors.New("diff: a source root and a Kustomization are required")
	}
	if req.Base != "" {
		return d.diffWithBase(ctx, req)
	}
	// The run's own Differ reads substituteFrom sources and live
	// Kustomizations once (see runReads).
	rd := *d
	rd.Client = newRunReads(d.Client)
	r := &run{d: &rd, req: req, secrets: &scrubber{}, pending: newPending(), built: newBuiltObjects(), notes: map[string][]string{}}
	if r.keep = req.keep; r.keep != nil {
		r.keep.secrets = r.secrets
	}
	rep := &Report{SchemaVersion: SchemaVersion, Created: time.Now().UTC()}
	s := r.schedule(ctx)
	for {
		n, warning, ok := s.next()
		if !ok {
			break
		}
		reports, err := r.step(ctx, s, n, warning)
		if err != nil {
			return nil, err
		}
		rep.Kustomizations = append(rep.Kustomizations, reports...)
	}
	// Secret values found late (in a child) are scrubbed from earlier
	// Kustomizations too.
	for i := range rep.Kustomizations {
		r.secrets.scrubReport(&rep.Kustomizations[i])
	}
	return rep, nil
}

// schedule queues the requested Kustomizations: Request.Kustomization first,
// then Request.More, each of which takes the live status when it has no
// inventory.
func (r *run) schedule(ctx context.Context) *schedule {
	s := newSchedule()
	s.add(nested{ks: r.req.Kustomization})
	more := make([]nested, 0, len(r.req.More))
	for _, ks := range r.req.More {
		ks = ks.DeepCopy()
		if ks.Status.Inventory == nil {
			if w := r.d.adoptLiveStatus(ctx, r.d.management(), ks); w != "" {
				r.notes[keyOf(ks)] = append(r.notes[keyOf(ks)], w)
			}
		}
		more = append(more, nested{ks: ks})
	}
	s.add(more...)
	return s
}

// step diffs one Kustomization, queues the children of its build (with
// Request.Recursive) and returns its report followed by those of the
// Kustomizations its deletions finalize.
func (r *run) step(ctx context.Context, s *schedule, n nested, warning string) ([]KustomizationReport, error) {
	kr, children, err := r.diffOne(ctx, n)
	if err != nil {
		return nil, err
	}
	if warning != "" {
		kr.Warnings = append(kr.Warnings, warning)
	}
	kr.Warnings = append(kr.Warnings, r.notes[keyOf(n.ks)]...)
	r.maskDeletions(ctx, &kr)
	if r.req.Recursive && len(children) > 0 {
		if n.depth >= r.d.maxDepth() {
			kr.Warnings = append(kr.Warnings, fmt.Sprintf("nested Kustomizations beyond depth %d are not diffed", r.d.maxDepth()))
		} else {
			batch := make([]nested, 0, len(children))
			for _, c := range children {
				batch = append(batch, nested{ks: c, parent: keyOf(n.ks), depth: n.depth + 1})
			}
			s.add(batch...)
		}
	}
	finalized, err := r.finalized(ctx, &kr, n.depth+1)
	if err != nil {
		return nil, err
	}
	out := append([]KustomizationReport{kr}, finalized...)
	r.reportRisks(ctx, n.ks, out)
	return out, nil
}

// run is the state shared by the Kustomizations of one Diff call.
type run struct {
	d   *Differ
	req Request
	// secrets holds every secret value seen so far, parents' included.
	secrets *scrubber
	// pending holds the Namespaces and CRDs that builds so far create or
	// change, so that their dependants are not reported as failures.
	pending *pending
	// built holds the ConfigMaps and Secrets that builds so far apply, which
	// later builds read for postBuild.substituteFrom.
	built *builtObjects
	// notes are warnings for the report of a Kustomization, by keyOf.
	notes map[string][]string
	// keep collects objects for classification; nil without a base tree.
	keep *kept
	// nested holds, by keyOf, the Kustomizations found in a build (see
	// run.managementFor).
	nested sync.Map
	// src locates manifests in the source tree for risk flags (sources).
	src     *sourceIndex
	srcOnce sync.Once
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

// item is one built object, the fields of it that carry secret values, and
// whether it is SOPS-encrypted (known before normalization drops the sops
// field of typed objects).
type item struct {
	obj   *unstructured.Unstructured
	paths []fieldPath
	sops  bool
	// seen records what the dry-run saw, for the risk flags.
	seen *observation
	// live holds the build's live objects read in bulk; nil reads each.
	live *liveReads
}

// diffOne diffs one Kustomization and returns the nested Kustomizations its
// build contains. A panic underneath becomes the Kustomization's error.
func (r *run) diffOne(ctx context.Context, n nested) (kr KustomizationReport, children []*kustomizev1.Kustomization, err error) {
	ks := n.ks
	kr = KustomizationReport{
		Cluster: r.d.Cluster, Target: r.d.Target, Namespace: ks.Namespace, Name: ks.Name, Path: ks.Spec.Path,
		Source: sourceString(ks), Parent: n.parent, Changes: []Change{},
	}
	defer func() {
		if p := recover(); p != nil {
			kr.Changes, kr.Counts, kr.Risks, children, err = []Change{}, Counts{}, nil, nil, nil
			kr.Error = fmt.Sprintf("internal error while diffing: %v", p)
		}
	}()
	if n.parent != "" {
		r.markNested(ks)
		if w := r.d.adoptLiveStatus(ctx, r.d.Client, ks); w != "" {
			kr.Warnings = append(kr.Warnings, w)
		}
	}
	items, err := r.prepare(ctx, ks)
	if err != nil {
		if ctx.Err() != nil {
			return kr, nil, ctx.Err()
		}
		kr.Error = err.Error()
		return kr, nil, nil
	}
	changes, err := r.dryRunAll(ctx, ks, items)
	if err == nil {
		var deleted []Change
		deleted, err = r.d.deletions(ctx, ks, items, changes)
		changes = append(changes, deleted...)
	}
	if err != nil {
		if ctx.Err() != nil {
			return kr, nil, ctx.Err()
		}
		kr.Error = err.Error()
		return kr, nil, nil
	}
	for _, c := range changes {
		kr.Counts.add(c.Action)
	}
	kr.Changes = changes
	kr.Risks = r.objectRisks(ctx, ks, items, changes)
	r.built.add(keyOf(ks), items, changes)
	kr.HelmReleases = r.diffHelm(ctx, ks, items, changes)
	children, warnings := childKustomizations(ks, items)
	kr.Warnings = append(kr.Warnings, warnings...)
	return kr, children, nil
}

// prepare builds ks, substitutes variables and sets the metadata that
// kustomize-controller sets before applying.
func (r *run) prepare(ctx context.Context, ks *kustomizev1.Kustomization) ([]item, error) {
	objs, err := r.d.build(r.req.Root, ks, BuildOptions{Ignore: r.req.Ignore})
	if err != nil {
		return nil, err
	}
	r.notes[keyOf(ks)] = append(r.notes[keyOf(ks)], encryptedGenerators(ks, objs)...)
	subst, err := r.loadSubstitution(ctx, ks)
	if err != nil {
		return nil, fmt.Errorf("post build: %w", err)
	}
	if subst != nil {
		r.secrets.add(subst.secretValues...)
	}
	objs, paths, err := subst.apply(ctx, objs)
	if err != nil {
		return nil, err
	}
	if err := checkDecryption(ks, objs); err != nil {
		return nil, err
	}
	encrypted := make([]bool, len(objs))
	for i, o := range objs {
		encrypted[i] = isSOPS(o)
	}
	if err := normalize.UnstructuredList(objs); err != nil {
		return nil, fmt.Errorf("normalize: %w", err)
	}
	if cm := ks.Spec.CommonMetadata; cm != nil {
		ssautils.SetCommonMetadata(objs, cm.Labels, cm.Annotations)
	}
	ownerLabels(objs, ks)
	items := make([]item, len(objs))
	for i, o := range objs {
		items[i] = item{obj: o, paths: paths[i], sops: encrypted[i], seen: &observation{}}
	}
	return items, nil
}

// ownerLabels sets the labels kustomize-controller marks its objects with.
func ownerLabels(objs []*unstructured.Unstructured, ks *kustomizev1.Kustomization) {
	rm := ssa.NewResourceManager(nil, nil, owner())
	rm.SetOwnerLabels(objs, ks.Name, ks.Namespace)
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
// not exist yet keeps an empty status; any other failure is a warning.
func (d *Differ) adoptLiveStatus(ctx context.Context, c client.Reader, ks *kustomizev1.Kustomization) string {
	live := &kustomizev1.Kustomization{}
	err := c.Get(ctx, client.ObjectKeyFromObject(ks), live)
	switch {
	case err == nil:
		ks.Status = live.Status
	case !apierrors.IsNotFound(err):
		return "cannot read the live Kustomization, so deletions are not shown: " + err.Error()
	}
	return ""
}
