package kube

import (
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func gitRepo(ns, name, url string, ref *sourcev1.GitRepositoryRef) *sourcev1.GitRepository {
	return &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       sourcev1.GitRepositorySpec{URL: url, Reference: ref},
	}
}

func kustomization(ns, name, path string, src kustomizev1.CrossNamespaceSourceReference) *kustomizev1.Kustomization {
	return &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       kustomizev1.KustomizationSpec{Path: path, SourceRef: src},
	}
}

func gitRef(ns, name string) kustomizev1.CrossNamespaceSourceReference {
	return kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Namespace: ns, Name: name}
}

func keysOf(entries []*Entry) []string {
	out := []string{}
	for _, e := range entries {
		out = append(out, e.ObjectKey.String())
	}
	return out
}

func reasonsOf(entries []*Entry) map[string]string {
	out := map[string]string{}
	for _, e := range entries {
		out[e.ObjectKey.String()] = e.Reason
	}
	return out
}

func TestIndexLookup(t *testing.T) {
	ix := NewIndex()
	main := &sourcev1.GitRepositoryRef{Branch: "main"}
	ix.SetGitRepository("a", gitRepo("flux-system", "fleet", "ssh://git@github.com/Org/Fleet.git", main))
	ix.SetGitRepository("b", gitRepo("flux-system", "fleet", "git@github.com:org/fleet.git", &sourcev1.GitRepositoryRef{Name: "refs/heads/main"}))
	ix.SetGitRepository("b", gitRepo("flux-system", "release", "https://github.com/org/fleet", &sourcev1.GitRepositoryRef{Tag: "v1.0.0"}))
	ix.SetKustomization("a", kustomization("flux-system", "apps", "./apps", gitRef("", "fleet")))
	ix.SetKustomization("a", kustomization("team-a", "web", "./web", gitRef("flux-system", "fleet")))
	ix.SetKustomization("b", kustomization("flux-system", "apps", "./apps", gitRef("", "fleet")))
	ix.SetKustomization("b", kustomization("flux-system", "pinned", "./apps", gitRef("", "release")))

	t.Run("every URL form and cross-namespace references match the branch", func(t *testing.T) {
		got := keysOf(ix.Lookup("https://github.com/org/fleet/", "main"))
		want := []string{"a/flux-system/apps", "a/team-a/web", "b/flux-system/apps"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Lookup (-want +got):\n%s", diff)
		}
	})
	t.Run("another branch matches nothing", func(t *testing.T) {
		if got := ix.Lookup("https://github.com/org/fleet", "dev"); len(got) != 0 {
			t.Errorf("Lookup(dev) = %v, want none", keysOf(got))
		}
	})
	t.Run("a tag ref is listed with its reason but never matched", func(t *testing.T) {
		got := reasonsOf(ix.List("git@github.com:org/fleet"))["b/flux-system/pinned"]
		if want := "GitRepository flux-system/release follows tag v1.0.0"; got != want {
			t.Errorf("reason = %q, want %q", got, want)
		}
	})
	t.Run("an entry carries what the CLI prints", func(t *testing.T) {
		got := *ix.Lookup("github.com/org/fleet", "main")[1]
		got.Kustomization = nil
		want := Entry{
			ObjectKey: ObjectKey{Cluster: "a", Namespace: "team-a", Name: "web"},
			Path:      "./web",
			Source:    SourceRef{Kind: "GitRepository", Namespace: "flux-system", Name: "fleet"},
			URL:       "ssh://git@github.com/Org/Fleet.git",
			Repo:      "github.com/org/fleet",
			Branch:    "main",
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("entry (-want +got):\n%s", diff)
		}
	})
}

func TestIndexFollowsChanges(t *testing.T) {
	ix := NewIndex()
	ix.SetKustomization("a", kustomization("apps", "web", "./web", gitRef("flux-system", "fleet")))

	t.Run("a Kustomization whose GitRepository is missing is listed with a reason", func(t *testing.T) {
		want := map[string]string{"a/apps/web": "GitRepository flux-system/fleet not found"}
		if diff := cmp.Diff(want, reasonsOf(ix.List(""))); diff != "" {
			t.Errorf("List (-want +got):\n%s", diff)
		}
	})
	t.Run("creating the GitRepository makes it match", func(t *testing.T) {
		ix.SetGitRepository("a", gitRepo("flux-system", "fleet", "https://github.com/org/fleet", nil))
		if got := keysOf(ix.Lookup("https://github.com/org/fleet", "master")); !cmp.Equal(got, []string{"a/apps/web"}) {
			t.Errorf("Lookup(master) = %v, want the Kustomization (no ref means master)", got)
		}
	})
	t.Run("moving the GitRepository to another branch moves the match", func(t *testing.T) {
		ix.SetGitRepository("a", gitRepo("flux-system", "fleet", "https://github.com/org/fleet", &sourcev1.GitRepositoryRef{Branch: "main"}))
		if got := ix.Lookup("https://github.com/org/fleet", "master"); len(got) != 0 {
			t.Errorf("Lookup(master) = %v, want none", keysOf(got))
		}
		if got := keysOf(ix.Lookup("https://github.com/org/fleet", "main")); !cmp.Equal(got, []string{"a/apps/web"}) {
			t.Errorf("Lookup(main) = %v", got)
		}
	})
	t.Run("a suspended Kustomization still matches and says so", func(t *testing.T) {
		ks := kustomization("apps", "web", "./web", gitRef("flux-system", "fleet"))
		ks.Spec.Suspend = true
		ix.SetKustomization("a", ks)
		got := ix.Lookup("https://github.com/org/fleet", "main")
		if len(got) != 1 || !got[0].Suspended {
			t.Errorf("Lookup = %+v, want one suspended entry", got)
		}
	})
	t.Run("deleting the Kustomization removes it", func(t *testing.T) {
		ix.DeleteKustomization(ObjectKey{Cluster: "a", Namespace: "apps", Name: "web"})
		if ix.Len() != 0 || len(ix.Lookup("https://github.com/org/fleet", "main")) != 0 {
			t.Errorf("index still holds %v", keysOf(ix.List("")))
		}
	})
}

func TestIndexReasons(t *testing.T) {
	ix := NewIndex()
	for name, ref := range map[string]*sourcev1.GitRepositoryRef{
		"commit": {Branch: "main", Commit: "0123abc"},
		"semver": {SemVer: ">=1.0.0"},
		"pull":   {Name: "refs/pull/1/head"},
		"tagref": {Name: "refs/tags/v1"},
	} {
		ix.SetGitRepository("a", gitRepo("ns", name, "https://github.com/org/fleet", ref))
		ix.SetKustomization("a", kustomization("ns", name, "./", gitRef("", name)))
	}
	ix.SetKustomization("a", kustomization("ns", "oci", "./", kustomizev1.CrossNamespaceSourceReference{Kind: "OCIRepository", Name: "x"}))
	ix.SetKustomization("a", kustomization("ns", "bucket", "./", kustomizev1.CrossNamespaceSourceReference{Kind: "Bucket", Name: "x"}))
	want := map[string]string{
		"a/ns/commit": "GitRepository ns/commit is pinned to commit 0123abc",
		"a/ns/semver": "GitRepository ns/semver follows semver range >=1.0.0",
		"a/ns/pull":   "GitRepository ns/pull follows ref refs/pull/1/head, which is not a branch",
		"a/ns/tagref": "GitRepository ns/tagref follows ref refs/tags/v1, which is not a branch",
		"a/ns/oci":    "OCIRepository sources are not diffable from a pull request",
		"a/ns/bucket": "Bucket sources are not diffable from a pull request",
	}
	if diff := cmp.Diff(want, reasonsOf(ix.List(""))); diff != "" {
		t.Errorf("reasons (-want +got):\n%s", diff)
	}
}
