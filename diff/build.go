package diff

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/kustomize"
	fluxfs "github.com/fluxcd/pkg/kustomize/filesys"

	"github.com/fluxdiff/fluxdiff/diff/internal/kustbuild"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/kustomize/api/resource"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// BuildOptions tunes Build.
type BuildOptions struct {
	// Ignore holds extra .sourceignore-style patterns, such as the
	// GitRepository's spec.ignore.
	Ignore string
	// WrapFS, when set, wraps the filesystem kustomize reads through; the
	// selection logic uses it to record which files a build reads.
	WrapFS func(filesys.FileSystem) filesys.FileSystem
}

// BuildError is a failed build: the Kustomization's path or one of its files
// is wrong. Its message names files relative to the source root.
type BuildError struct {
	// Path is the Kustomization's spec.path.
	Path string
	Err  error
}

func (e *BuildError) Error() string { return fmt.Sprintf("build %s: %v", e.Path, e.Err) }

// Unwrap returns the underlying error.
func (e *BuildError) Unwrap() error { return e.Err }

// Build builds ks's spec.path inside the source tree at root the way
// kustomize-controller does: a kustomization.yaml is generated when the folder
// has none, and spec.patches, images, components, targetNamespace, namePrefix,
// nameSuffix are applied. The generated file lives in memory only; the tree is
// never written to. The objects are returned before post-build substitution.
func Build(root string, ks *kustomizev1.Kustomization, opts BuildOptions) ([]*unstructured.Unstructured, error) {
	objs, err := build(root, ks, opts)
	if err != nil {
		return nil, &BuildError{Path: ks.Spec.Path, Err: relativeToRoot(err, root)}
	}
	return objs, nil
}

// build runs the steps of kustomize-controller's build: resolve spec.path,
// generate the kustomization file Flux would write, assemble the tree as the
// artifact holds it, run kustomize, and convert the result.
func build(root string, ks *kustomizev1.Kustomization, opts BuildOptions) ([]*unstructured.Unstructured, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	art, err := newArtifactView(root, opts.Ignore)
	if err != nil {
		return nil, err
	}
	dir, err := art.pathInTree(ks.Spec.Path)
	if err != nil {
		return nil, err
	}
	manifest, kfile, err := generateKustomization(art, dir, opts.Ignore, ks)
	if err != nil {
		return nil, err
	}
	fs, err := buildFS(art, kfile, manifest, opts.WrapFS)
	if err != nil {
		return nil, err
	}
	resMap, err := kustbuild.Run(fs, dir)
	if err != nil {
		return nil, err
	}
	return toObjects(resMap.Resources())
}

// generateKustomization returns the kustomization file kustomize-controller
// builds dir with, and its path: the one in dir with spec.patches, images,
// components and the rest applied, or one listing dir's manifests when dir
// has none.
//
// The Flux generator reads the disk, not the artifact, so it is told what the
// artifact lacks. A kustomization file in dir is used as written (the
// controller's generator does not filter it either): a resource it names that
// the artifact lacks fails the build, as in the controller. A folder without
// one is scanned with the artifact's ignore patterns and its symlinks as extra
// patterns, so that the generator neither parses nor lists what the artifact
// leaves out; dropIgnoredResources then applies the exact artifact rules to
// what it found.
func generateKustomization(art artifactView, dir, extraIgnore string, ks *kustomizev1.Kustomization) ([]byte, string, error) {
	u, err := toUnstructured(ks)
	if err != nil {
		return nil, "", err
	}
	present, hidden := art.kustomizationFile(dir)
	if present {
		manifest, kfile, _, err := kustomize.NewGenerator(art.root, u).GenerateManifest(dir)
		return manifest, kfile, err
	}
	if hidden != "" {
		return nil, "", fmt.Errorf("%s is a symlink or ignored, so the artifact lacks it and Flux would generate a kustomization for the folder; fluxdiff cannot tell the generator to pass it over: remove it or make it a regular file", hidden)
	}
	ignore, err := generatorIgnore(art.root, dir, extraIgnore)
	if err != nil {
		return nil, "", err
	}
	links, err := art.links.below(dir)
	if err != nil {
		return nil, "", err
	}
	ignore = strings.Join(append([]string{ignore}, links...), "\n")
	// The generator's filesystem is rooted at "/" here: rooted at the tree, it
	// would refuse to walk past a symlink that points outside it, which the
	// artifact simply lacks. It reads nothing through a symlink: every one
	// below dir is ignored, and dir has no kustomization file to read.
	manifest, kfile, _, err := kustomize.NewGeneratorWithIgnore(string(filepath.Separator), ignore, u).GenerateManifest(dir)
	if err != nil {
		return nil, "", err
	}
	manifest, err = dropIgnoredResources(manifest, dir, art)
	return manifest, kfile, err
}

// buildFS is the filesystem kustomize reads: the tree as the artifact holds
// it (ignored files and symlinks absent, nothing outside root), with the
// generated kustomization file in memory so that the tree is never written.
func buildFS(art artifactView, kfile string, manifest []byte, wrap func(filesys.FileSystem) filesys.FileSystem) (filesys.FileSystem, error) {
	disk, err := fluxfs.MakeFsOnDiskSecure(art.root)
	if err != nil {
		return nil, err
	}
	var fs filesys.FileSystem = art.over(fluxfs.MakeFsInMemory(disk))
	if err := fs.WriteFile(kfile, manifest); err != nil {
		return nil, err
	}
	if wrap != nil {
		fs = wrap(fs)
	}
	return fs, nil
}

// toObjects converts kustomize's resources, refusing those that lack
// apiVersion, kind or name as kustomize-controller does.
func toObjects(resources []*resource.Resource) ([]*unstructured.Unstructured, error) {
	objs := make([]*unstructured.Unstructured, 0, len(resources))
	for _, res := range resources {
		if res.GetName() == "" || res.GetKind() == "" || res.GetApiVersion() == "" {
			return nil, fmt.Errorf("an object lacks apiVersion, kind or name:\n%s", res.MustYaml())
		}
		obj, err := resourceToUnstructured(res)
		if err != nil {
			return nil, err
		}
		objs = append(objs, obj)
	}
	return objs, nil
}

// dropIgnoredResources removes from a generated kustomization.yaml the
// files that the artifact would not contain.
func dropIgnoredResources(manifest []byte, dir string, art artifactView) ([]byte, error) {
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return nil, err
	}
	fs := art.over(filesys.MakeFsOnDisk())
	kept := kus.Resources[:0:0]
	for _, r := range kus.Resources {
		if !fs.ignored(filepath.Join(dir, r)) {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(kus.Resources) {
		return manifest, nil
	}
	kus.Resources = kept
	return yaml.Marshal(kus)
}

// resourceToUnstructured converts through JSON, so that numbers are int64
// and float64 as everywhere else in Kubernetes' unstructured objects.
func resourceToUnstructured(res *resource.Resource) (*unstructured.Unstructured, error) {
	b, err := res.MarshalJSON()
	if err != nil {
		return nil, err
	}
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(b); err != nil {
		return nil, fmt.Errorf("%s/%s: %w", res.GetKind(), res.GetName(), err)
	}
	return obj, nil
}

// pathInTree resolves spec.path inside the artifact and checks that it is a
// folder there: a path through a symlink does not exist in the artifact.
func (a artifactView) pathInTree(specPath string) (string, error) {
	clean := filepath.Clean(filepath.Join("/", specPath))
	dir := filepath.Join(a.root, clean)
	fi, err := os.Stat(dir)
	if err == nil && a.links.through(dir) {
		err = os.ErrNotExist
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("spec.path %q does not exist in the source tree", specPath)
	case err != nil:
		return "", err
	case !fi.IsDir():
		return "", fmt.Errorf("spec.path %q is a file, not a folder", specPath)
	}
	return dir, nil
}

// toUnstructured turns the typed Kustomization into the form the Flux
// generator and substitution read.
func toUnstructured(ks *kustomizev1.Kustomization) (unstructured.Unstructured, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(ks)
	if err != nil {
		return unstructured.Unstructured{}, err
	}
	u := unstructured.Unstructured{Object: m}
	u.SetAPIVersion(kustomizev1.GroupVersion.String())
	u.SetKind(kustomizev1.KustomizationKind)
	return u, nil
}

// relativeToRoot rewrites absolute paths under root in err's message so that
// errors name files as they appear in the repository.
func relativeToRoot(err error, root string) error {
	abs, aerr := filepath.Abs(root)
	if aerr != nil {
		return err
	}
	msg := strings.ReplaceAll(err.Error(), abs+string(filepath.Separator), "")
	msg = strings.ReplaceAll(msg, abs, ".")
	if msg == err.Error() {
		return err
	}
	return &rewrittenError{msg: msg, err: err}
}

type rewrittenError struct {
	msg string
	err error
}

func (e *rewrittenError) Error() string { return e.msg }
func (e *rewrittenError) Unwrap() error { return e.err }
