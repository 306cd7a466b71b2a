package kube

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
)

// ArtifactSource is how the ExternalArtifact a Kustomization reads is
// made: by an ArtifactGenerator (source.extensions.fluxcd.io/v1beta1,
// Flux 2.7+) copying files of GitRepository artifacts into a new tree.
type ArtifactSource struct {
	// Generator is the ArtifactGenerator.
	Generator SourceRef `json:"generator"`
	// Artifact is the name of its output artifact (spec.artifacts[].name),
	// which is also the ExternalArtifact's name.
	Artifact string `json:"artifact"`
	// Copy are that artifact's copy operations, in order.
	Copy []swapi.CopyOperation `json:"copy"`
	// Sources are the GitRepositories its copy operations read, by alias.
	Sources map[string]AliasSource `json:"sources"`
}

// AliasSource is one source of an ArtifactGenerator.
type AliasSource struct {
	SourceRef
	// URL is the GitRepository's spec.url, Repo its normalized form and
	// Branch the branch it follows.
	URL    string `json:"url"`
	Repo   string `json:"repo"`
	Branch string `json:"branch"`
	// Ignore is the GitRepository's spec.ignore (and sparse checkout).
	Ignore string `json:"ignore,omitempty"`
}

// Inputs returns the ArtifactGenerator's sources for AssembleArtifact, each
// alias of the pull request's repository reading root.
func (a *ArtifactSource) Inputs(root string) map[string]ArtifactInput {
	out := make(map[string]ArtifactInput, len(a.Sources))
	for alias, s := range a.Sources {
		out[alias] = ArtifactInput{Root: root, Ignore: s.Ignore}
	}
	return out
}

// The kinds the index follows besides GitRepository.
const (
	externalArtifactKind  = sourcev1.ExternalArtifactKind
	artifactGeneratorKind = swapi.ArtifactGeneratorKind
)

// depKey names an object an entry was resolved from, so that a change to it
// re-resolves the entry.
type depKey struct {
	kind string
	ObjectKey
}

// generatorOf keeps what the index needs of an ArtifactGenerator.
func generatorOf(g *swapi.ArtifactGenerator) *swapi.ArtifactGeneratorSpec {
	spec := g.Spec.DeepCopy()
	return spec
}

// SetArtifactGenerator adds or replaces an ArtifactGenerator of cluster and
// re-resolves the Kustomizations that read its artifacts.
func (ix *Index) SetArtifactGenerator(cluster string, g *swapi.ArtifactGenerator) {
	key := ObjectKey{Cluster: cluster, Namespace: g.Namespace, Name: g.Name}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.generators[key] = generatorOf(g)
	ix.reresolve(depKey{artifactGeneratorKind, key})
}

// DeleteArtifactGenerator forgets an ArtifactGenerator; the Kustomizations
// that read its artifacts stay listed with the reason.
func (ix *Index) DeleteArtifactGenerator(key ObjectKey) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	delete(ix.generators, key)
	ix.reresolve(depKey{artifactGeneratorKind, key})
}

// SetExternalArtifact adds or replaces an ExternalArtifact of cluster: its
// spec.sourceRef names the ArtifactGenerator that makes it.
func (ix *Index) SetExternalArtifact(cluster string, ea *sourcev1.ExternalArtifact) {
	key := ObjectKey{Cluster: cluster, Namespace: ea.Namespace, Name: ea.Name}
	var gen SourceRef
	if ref := ea.Spec.SourceRef; ref != nil {
		gen = SourceRef{Kind: ref.Kind, Namespace: cmp.Or(ref.Namespace, ea.Namespace), Name: ref.Name}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if old, ok := ix.externals[key]; ok && old == gen {
		return
	}
	ix.externals[key] = gen
	ix.reresolve(depKey{externalArtifactKind, key})
}

// DeleteExternalArtifact forgets an ExternalArtifact.
func (ix *Index) DeleteExternalArtifact(key ObjectKey) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	delete(ix.externals, key)
	ix.reresolve(depKey{externalArtifactKind, key})
}

// resolveArtifact fills e, whose source is an ExternalArtifact, from the
// ArtifactGenerator that makes it and the GitRepositories that generator
// copies from. It is diffable when every source its artifact copies from is
// a GitRepository of one repository and branch. The caller holds the lock.
func (ix *Index) resolveArtifact(e *Entry, res *resolution) {
	eaKey := ObjectKey{Cluster: e.Cluster, Namespace: e.Source.Namespace, Name: e.Source.Name}
	res.deps = append(res.deps, depKey{externalArtifactKind, eaKey})
	ref, ok := ix.externals[eaKey]
	switch {
	case !ok:
		e.Reason = fmt.Sprintf("ExternalArtifact %s/%s not found", eaKey.Namespace, eaKey.Name)
		return
	case ref.Kind != artifactGeneratorKind:
		e.Reason = fmt.Sprintf("ExternalArtifact %s/%s is not made by an ArtifactGenerator (spec.sourceRef: %q), so it is not diffable from a pull request",
			eaKey.Namespace, eaKey.Name, ref.Kind)
		return
	}
	genKey := ObjectKey{Cluster: e.Cluster, Namespace: ref.Namespace, Name: ref.Name}
	res.deps = append(res.deps, depKey{artifactGeneratorKind, genKey})
	spec, ok := ix.generators[genKey]
	if !ok {
		e.Reason = fmt.Sprintf("ArtifactGenerator %s/%s not found", ref.Namespace, ref.Name)
		return
	}
	i := slices.IndexFunc(spec.OutputArtifacts, func(o swapi.OutputArtifact) bool { return o.Name == eaKey.Name })
	if i < 0 {
		e.Reason = fmt.Sprintf("ArtifactGenerator %s/%s makes no artifact %s", ref.Namespace, ref.Name, eaKey.Name)
		return
	}
	art := &ArtifactSource{
		Generator: SourceRef{Kind: artifactGeneratorKind, Namespace: ref.Namespace, Name: ref.Name},
		Artifact:  eaKey.Name, Copy: spec.OutputArtifacts[i].Copy, Sources: map[string]AliasSource{},
	}
	e.Artifact = art
	var first *AliasSource
	for _, op := range art.Copy {
		alias, _, _ := strings.Cut(strings.TrimPrefix(op.From, "@"), "/")
		if _, done := art.Sources[alias]; done {
			continue
		}
		src, why := ix.aliasSource(e, res, genKey, spec, alias)
		if why != "" {
			e.Reason = fmt.Sprintf("ArtifactGenerator %s/%s: %s", ref.Namespace, ref.Name, why)
			return
		}
		art.Sources[alias] = src
		if first == nil {
			first = &src
		} else if src.Repo != first.Repo || src.Branch != first.Branch {
			e.Reason = fmt.Sprintf("ArtifactGenerator %s/%s copies from %s@%s and %s@%s; a pull request changes one repository and branch",
				ref.Namespace, ref.Name, first.Repo, first.Branch, src.Repo, src.Branch)
			return
		}
	}
	if first == nil {
		e.Reason = fmt.Sprintf("ArtifactGenerator %s/%s: artifact %s copies nothing", ref.Namespace, ref.Name, eaKey.Name)
		return
	}
	e.URL, e.Repo, e.Branch, e.Ignore = first.URL, first.Repo, first.Branch, first.Ignore
}

// aliasSource resolves one alias of a generator to its GitRepository, or
// says why it cannot be diffed.
func (ix *Index) aliasSource(e *Entry, res *resolution, genKey ObjectKey, spec *swapi.ArtifactGeneratorSpec, alias string) (AliasSource, string) {
	i := slices.IndexFunc(spec.Sources, func(s swapi.SourceReference) bool { return s.Alias == alias })
	if i < 0 {
		return AliasSource{}, fmt.Sprintf("source alias %q not found", alias)
	}
	s := spec.Sources[i]
	ref := SourceRef{Kind: s.Kind, Namespace: cmp.Or(s.Namespace, genKey.Namespace), Name: s.Name}
	if s.Kind != sourcev1.GitRepositoryKind {
		return AliasSource{}, fmt.Sprintf("copies from %s %s/%s; %s sources are not diffable from a pull request", s.Kind, ref.Namespace, ref.Name, s.Kind)
	}
	gitKey := ObjectKey{Cluster: e.Cluster, Namespace: ref.Namespace, Name: ref.Name}
	res.deps = append(res.deps, depKey{sourcev1.GitRepositoryKind, gitKey})
	src, ok := ix.sources[gitKey]
	switch {
	case !ok:
		return AliasSource{}, fmt.Sprintf("GitRepository %s/%s not found", ref.Namespace, ref.Name)
	case src.reason != "":
		return AliasSource{}, src.reason
	case len(src.includes) > 0:
		return AliasSource{}, fmt.Sprintf("GitRepository %s/%s includes other GitRepositories (spec.include), which fluxdiff does not follow through an ArtifactGenerator", ref.Namespace, ref.Name)
	}
	return AliasSource{SourceRef: ref, URL: src.url, Repo: src.repo, Branch: src.branch, Ignore: src.ignore}, ""
}
