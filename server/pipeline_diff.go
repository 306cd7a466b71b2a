package server

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/scheme"
	"github.com/fluxdiff/fluxdiff/server/queue"
)

// diffTargets diffs every target on its own cluster, the clusters in
// parallel, each within the job's cluster limiter. A cluster that is
// unavailable gives rows that say so, without being asked; the other
// clusters' rows are unaffected. Rows come in configuration order of the
// clusters, each cluster's in selection order, with nested Kustomizations
// after their parent.
func (p *Pipeline) diffTargets(ctx context.Context, job queue.PRJob, roots trees, ts []target, unavailable []kube.ClusterStatus) ([]diff.KustomizationReport, []string) {
	down := map[string]string{}
	for _, s := range unavailable {
		down[s.Name] = unavailableReason(s)
	}
	byCluster := map[string][]target{}
	for _, t := range ts {
		byCluster[t.entry.Cluster] = append(byCluster[t.entry.Cluster], t)
	}
	rows := make([][]diff.KustomizationReport, len(p.Clusters))
	var notes []string
	var wg sync.WaitGroup
	for i, cl := range p.Clusters {
		cts := byCluster[cl.Name]
		delete(byCluster, cl.Name)
		if why, ok := down[cl.Name]; ok && len(cts) == 0 {
			// Its index may be empty or stale: what it holds is unknown.
			notes = append(notes, why+"; the Kustomizations it holds could not be looked up and are not diffed.")
		}
		if len(cts) == 0 {
			continue
		}
		if why, ok := down[cl.Name]; ok {
			rows[i] = errorRows(cl.Name, cts, why)
			continue
		}
		wg.Go(func() { rows[i] = p.diffCluster(ctx, job, cl, roots, cts) })
	}
	wg.Wait()
	var out []diff.KustomizationReport
	for _, r := range rows {
		out = append(out, r...)
	}
	for _, name := range slices.Sorted(maps.Keys(byCluster)) { // new Kustomizations no known cluster applies
		out = append(out, errorRows(name, byCluster[name], "it is defined by this pull request, but no Kustomization in a configured cluster applies it")...)
	}
	return dedupeNested(out), notes
}

// diffCluster diffs the targets of one cluster in one run of the engine per
// GitRepository ignore rules (usually one), so that the engine orders them
// as kustomize-controller applies them and each sees the Namespaces, CRDs
// and variables that the builds before it change.
func (p *Pipeline) diffCluster(ctx context.Context, job queue.PRJob, cl *kube.Cluster, roots trees, ts []target) []diff.KustomizationReport {
	if cur := p.Watcher.Cluster(cl.Name); cur != nil {
		cl = cur // a kubeconfig that failed at start-up may have loaded since
	}
	if job.Clusters != nil {
		release, err := job.Clusters.Acquire(ctx, cl.Name)
		if err != nil {
			return errorRows(cl.Name, ts, "not diffed: "+err.Error())
		}
		defer release()
	}
	c, err := p.clients.get(cl)
	if err == nil {
		// The index may not have noticed yet that the cluster went away: a
		// quick probe gives one clear reason instead of a timeout per object.
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err = cl.Version(pctx)
		cancel()
	}
	if err != nil {
		return errorRows(cl.Name, ts, "cluster "+cl.Name+" is unreachable: "+err.Error())
	}
	return p.diffByTarget(ctx, cl, c, roots, ts)
}

// diffGroup diffs targets that share their ignore rules, target cluster and
// identity in one engine run, each with its live status so that prune sees
// its inventory.
func (p *Pipeline) diffGroup(ctx context.Context, dc diffClients, cluster string, roots trees, ts []target) []diff.KustomizationReport {
	kss := make([]*kustomizev1.Kustomization, 0, len(ts))
	warnings := map[string]string{}
	for _, t := range ts {
		ks := t.entry.Kustomization
		if t.definition != nil {
			ks = t.definition
		}
		ks = ks.DeepCopy()
		live := &kustomizev1.Kustomization{}
		switch err := dc.mgmt.Get(ctx, client.ObjectKeyFromObject(ks), live); {
		case err == nil:
			ks.Status = live.Status
		case !apierrors.IsNotFound(err):
			warnings[ks.Namespace+"/"+ks.Name] = "cannot read the live Kustomization, so deletions are not shown: " + err.Error()
		}
		kss = append(kss, ks)
	}
	timeout := p.DiffTimeout
	if timeout <= 0 {
		timeout = 5 * time.Minute
	}
	dctx, cancel := context.WithTimeout(ctx, timeout*time.Duration(len(ts)))
	defer cancel()
	d := &diff.Differ{Client: dc.apply, Management: dc.mgmt, Target: dc.target, Cluster: cluster, Concurrency: p.DiffConcurrency, Builds: p.Builds, Helm: dc.helm}
	root := roots.merge
	if ts[0].root != "" {
		root = ts[0].root // an ExternalArtifact's tree, assembled from the merge tree
	}
	base, baseErr := roots.baseOf(ctx, ts)
	rep, err := d.Diff(dctx, diff.Request{Root: root, Base: base, Kustomization: kss[0], More: kss[1:], Recursive: true, Ignore: ts[0].entry.Ignore})
	if err != nil {
		rows := errorRows(cluster, ts, fmt.Sprintf("not diffed: %v", err))
		for i := range rows {
			rows[i].Target = dc.target
		}
		return rows
	}
	for i, k := range rep.Kustomizations {
		if w, ok := warnings[k.Namespace+"/"+k.Name]; ok && k.Parent == "" {
			rep.Kustomizations[i].Warnings = append(rep.Kustomizations[i].Warnings, w)
		}
		if baseErr != "" && k.Error == "" {
			rep.Kustomizations[i].BaseError = baseErr
		}
	}
	return rep.Kustomizations
}

// byIgnore groups ts by the tree they build from and their GitRepository's
// ignore rules, in order.
func byIgnore(ts []target) [][]target {
	idx := map[string]int{}
	var out [][]target
	for _, t := range ts {
		k := t.root + "\x00" + t.entry.Ignore
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], t)
	}
	return out
}

// errorRows reports ts as not diffed, for the reason why.
func errorRows(cluster string, ts []target, why string) []diff.KustomizationReport {
	out := make([]diff.KustomizationReport, 0, len(ts))
	for _, t := range ts {
		e := t.entry
		out = append(out, diff.KustomizationReport{
			Cluster: cluster, Namespace: e.Namespace, Name: e.Name, Path: e.Path,
			Source: e.Source.Kind + "/" + e.Source.Namespace + "/" + e.Source.Name, Changes: []diff.Change{}, Error: why,
		})
	}
	return out
}

func unavailableReason(s kube.ClusterStatus) string {
	if s.Error != "" {
		return "cluster " + s.Name + " is unavailable: " + s.Error
	}
	return "cluster " + s.Name + " is unavailable: its index has not synced yet"
}

// dedupeNested drops a top-level row when the same Kustomization was also
// diffed as a child of another (its parent's build gives it the spec and
// variables it will really have), keeping the first of other duplicates.
func dedupeNested(rows []diff.KustomizationReport) []diff.KustomizationReport {
	key := func(r diff.KustomizationReport) string { return r.Cluster + "/" + r.Namespace + "/" + r.Name }
	nested := map[string]bool{}
	for _, r := range rows {
		if r.Parent != "" {
			nested[key(r)] = true
		}
	}
	seen := map[string]bool{}
	out := rows[:0]
	for _, r := range rows {
		k := key(r)
		if (r.Parent == "" && nested[k]) || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}

// clientCache holds one controller-runtime client per cluster
// configuration.
type clientCache struct {
	mu sync.Mutex
	m  map[*kube.Cluster]client.Client
}

func (cc *clientCache) get(cl *kube.Cluster) (client.Client, error) {
	if cl.LoadErr != nil {
		return nil, cl.LoadErr
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if c, ok := cc.m[cl]; ok {
		return c, nil
	}
	c, err := client.New(cl.Config, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, fmt.Errorf("client for cluster %s: %w", cl.Name, err)
	}
	if cc.m == nil {
		cc.m = map[*kube.Cluster]client.Client{}
	}
	cc.m[cl] = c
	return c, nil
}
