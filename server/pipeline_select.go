package server

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxdiff/fluxdiff/githubapp"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server/queue"
)

// target is one Kustomization to diff on its own cluster.
type target struct {
	entry *kube.Entry
	// definition is the spec to build: the merge result's, or nil for the
	// cluster's own (Entry.Kustomization).
	definition *kustomizev1.Kustomization
	// isNew is true for a Kustomization the pull request defines.
	isNew bool
	// root is the tree to build from when it is not the pull request's: the
	// ExternalArtifact assembled from it.
	root string
}

// targets returns the Kustomizations to diff: those the selector finds the
// pull request affects (every candidate when GitHub could not list all the
// changed files), narrowed by the job's filter, and notes for the report.
func (p *Pipeline) targets(ctx context.Context, job queue.PRJob, pr *githubapp.PullRequest, root string, arts *kube.ArtifactTrees, look kube.Result) ([]target, []string, error) {
	var notes []string
	var picked []kube.Selected
	if pr.FilesTruncated {
		notes = append(notes, fmt.Sprintf("This pull request changes more files than GitHub lists (%d listed), "+
			"so every Kustomization that reads %s at branch %s was diffed.", len(pr.Files), job.Repo, pr.BaseRef))
		for _, e := range look.Entries {
			picked = append(picked, kube.Selected{Entry: e})
		}
	} else {
		var err error
		picked, err = p.Selector.Select(ctx, kube.SelectRequest{
			Root: root, Commit: pr.MergeSHA, Base: pr.BaseSHA, Changes: fileChanges(pr.Files), Candidates: look.Entries,
			Repo: pr.BaseRepoURL, Branch: pr.BaseRef, Artifacts: arts,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("select the Kustomizations %s#%d affects: %w", job.Repo, job.PR, err)
		}
	}
	out, more := sourceTargets(ctx, picked, arts)
	notes = append(notes, more...)
	if job.Only != (queue.Filter{}) {
		var note string
		out, note = filterTargets(out, look.Entries, job.Only)
		if note != "" {
			notes = append(notes, note)
		}
		// A Kustomization named by the filter but not selected reads its
		// ExternalArtifact too.
		out, more = onArtifacts(ctx, out, arts)
		notes = append(notes, more...)
		notes = append(notes, fmt.Sprintf("Narrowed by %s to %s: other Kustomizations are not shown. "+
			"Comment /flux-diff or push to see them all.", cmp.Or(job.RequestedBy, "a request"), filterText(job.Only)))
	}
	return out, notes, nil
}

// filterTargets narrows ts to the filter. A Kustomization named by the
// filter is diffed even when the selection did not pick it: the person who
// asked wants to see it.
func filterTargets(ts []target, candidates []*kube.Entry, f queue.Filter) ([]target, string) {
	ns := f.Namespace
	if ns == "" {
		ns = "flux-system"
	}
	match := func(e *kube.Entry) bool {
		if f.Cluster != "" && e.Cluster != f.Cluster {
			return false
		}
		return f.Kustomization == "" || (e.Name == f.Kustomization && e.Namespace == ns)
	}
	var out []target
	seen := map[kube.ObjectKey]bool{}
	for _, t := range ts {
		if match(t.entry) {
			out = append(out, t)
			seen[t.entry.ObjectKey] = true
		}
	}
	if f.Kustomization != "" {
		for _, e := range candidates {
			if match(e) && !seen[e.ObjectKey] {
				out = append(out, target{entry: e})
			}
		}
	}
	if len(out) == 0 && f.Kustomization != "" {
		where := "in any cluster"
		if f.Cluster != "" {
			where = "in cluster " + f.Cluster
		}
		return nil, fmt.Sprintf("No Kustomization %s/%s that reads this repository and branch was found %s.", ns, f.Kustomization, where)
	}
	return out, ""
}

// fileChanges converts GitHub's changed files for the selector.
func fileChanges(files []githubapp.FileChange) []kube.FileChange {
	out := make([]kube.FileChange, 0, len(files))
	for _, f := range files {
		out = append(out, kube.FileChange{Path: f.Path, PreviousPath: f.PreviousPath, Kind: kube.ChangeKind(f.Status)})
	}
	return out
}

// filterText describes f, e.g. "Kustomization flux-system/apps in cluster
// staging".
func filterText(f queue.Filter) string {
	var parts []string
	if f.Kustomization != "" {
		parts = append(parts, "Kustomization "+cmp.Or(f.Namespace, "flux-system")+"/"+f.Kustomization)
	}
	if f.Cluster != "" {
		parts = append(parts, "cluster "+f.Cluster)
	}
	return strings.Join(parts, " in ")
}
