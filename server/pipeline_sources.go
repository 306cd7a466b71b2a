package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/fluxdiff/fluxdiff/kube"
)

// sourceTargets turns the selection into targets, each with the tree it
// builds from, and notes for the Kustomizations the pull request reaches
// but that are not diffed and why: those built from another repository
// that includes this one (spec.include), those whose source is not Git
// (OCIRepository, Bucket), and ExternalArtifacts that cannot be assembled.
func sourceTargets(ctx context.Context, picked []kube.Selected, arts *kube.ArtifactTrees) ([]target, []string) {
	out := make([]target, 0, len(picked))
	var notes []string
	for _, s := range picked {
		e := s.Entry
		var inc *kube.IncludeError
		switch {
		case errors.As(s.BuildErr, &inc):
			notes = append(notes, notDiffedNote(e, strings.Join(s.Reasons, "; ")+": "+inc.Error()))
			continue
		case e.Source.Kind == "OCIRepository" || e.Source.Kind == "Bucket":
			notes = append(notes, notDiffedNote(e, e.Reason))
			continue
		}
		for _, in := range e.Includes {
			notes = append(notes, fmt.Sprintf("Kustomization %s/%s in cluster %s: its GitRepository includes GitRepository %s/%s at %s, "+
				"which is not fetched; the diff builds without those files.", e.Namespace, e.Name, e.Cluster,
				in.Repository.Namespace, in.Repository.Name, in.ToPath))
		}
		t, err := onArtifact(ctx, target{entry: e, definition: s.Definition, isNew: s.New}, arts)
		if err != nil {
			notes = append(notes, notDiffedNote(e, err.Error()))
			continue
		}
		out = append(out, t)
	}
	return out, notes
}

// onArtifact points t at the tree of the ExternalArtifact its
// Kustomization reads, assembled by arts, when it reads one and is not
// pointed at it yet; other targets are returned as they are. The error says
// why the artifact cannot be assembled.
func onArtifact(ctx context.Context, t target, arts *kube.ArtifactTrees) (target, error) {
	e := t.entry
	if e.Artifact == nil || t.root != "" {
		return t, nil
	}
	root, err := arts.Root(ctx, e)
	if err != nil {
		return t, err
	}
	// The artifact is the tree as source-watcher stored it: the
	// GitRepository's ignore rules were applied when it was made.
	ec := *e
	ec.Ignore = ""
	t.entry, t.root = &ec, root
	return t, nil
}

// onArtifacts applies onArtifact to every target of ts, leaving out those
// whose artifact cannot be assembled, with a note saying why.
func onArtifacts(ctx context.Context, ts []target, arts *kube.ArtifactTrees) ([]target, []string) {
	out := make([]target, 0, len(ts))
	var notes []string
	for _, t := range ts {
		t, err := onArtifact(ctx, t, arts)
		if err != nil {
			notes = append(notes, notDiffedNote(t.entry, err.Error()))
			continue
		}
		out = append(out, t)
	}
	return out, notes
}

func notDiffedNote(e *kube.Entry, why string) string {
	cluster := e.Cluster
	if cluster == "" {
		cluster = "(no known cluster)"
	}
	return fmt.Sprintf("Kustomization %s/%s in cluster %s (source %s %s/%s) is not diffed: %s.",
		e.Namespace, e.Name, cluster, e.Source.Kind, e.Source.Namespace, e.Source.Name, strings.TrimSuffix(why, "."))
}
