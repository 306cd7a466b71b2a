package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/fluxdiff/fluxdiff/kube"
)

// chainRow is the source chain of one Kustomization as `fluxdiff index`
// shows it: what its artifact is made from and where and as whom it is
// applied. It shows the spec fields as written.
type chainRow struct {
	// Chain is the source chain in one line, e.g. "ExternalArtifact
	// flux-system/apps ← ArtifactGenerator flux-system/flux-system ←
	// GitRepository flux-system/flux-system (alias monorepo)".
	Chain string `json:"chain,omitempty"`
	// Target is spec.kubeConfig: "Secret NAME[/KEY]" or "ConfigMap NAME"
	// in the Kustomization's namespace; empty for the holding cluster.
	Target string `json:"target,omitempty"`
	// Identity is spec.serviceAccountName as "namespace/name"; empty for
	// the controller's own identity.
	Identity string `json:"identity,omitempty"`
}

func chainOf(e *kube.Entry) chainRow {
	var r chainRow
	parts := []string{e.Source.Kind + " " + e.Source.Namespace + "/" + e.Source.Name}
	if a := e.Artifact; a != nil {
		parts = append(parts, fmt.Sprintf("ArtifactGenerator %s/%s (artifact %s)", a.Generator.Namespace, a.Generator.Name, a.Artifact))
		var aliases []string
		for alias := range a.Sources {
			aliases = append(aliases, alias)
		}
		slices.Sort(aliases)
		for _, alias := range aliases {
			s := a.Sources[alias]
			parts = append(parts, fmt.Sprintf("%s %s/%s (alias %s)", s.Kind, s.Namespace, s.Name, alias))
		}
	}
	chain := strings.Join(parts, " ← ")
	for _, in := range e.Includes {
		chain += fmt.Sprintf(" + include GitRepository %s/%s %s → %s", in.Repository.Namespace, in.Repository.Name, in.FromPath, in.ToPath)
		if in.Reason != "" {
			chain += " (" + in.Reason + ")"
		}
	}
	if len(e.SparseCheckout) > 0 {
		chain += " [sparseCheckout: " + strings.Join(e.SparseCheckout, ", ") + "]"
	}
	r.Chain = chain
	if ks := e.Kustomization; ks != nil {
		if kc := ks.Spec.KubeConfig; kc != nil {
			switch {
			case kc.SecretRef != nil && kc.SecretRef.Key != "":
				r.Target = "Secret " + kc.SecretRef.Name + "/" + kc.SecretRef.Key
			case kc.SecretRef != nil:
				r.Target = "Secret " + kc.SecretRef.Name
			case kc.ConfigMapRef != nil:
				r.Target = "ConfigMap " + kc.ConfigMapRef.Name
			}
		}
		if sa := ks.Spec.ServiceAccountName; sa != "" {
			r.Identity = e.Namespace + "/" + sa
		}
	}
	return r
}
