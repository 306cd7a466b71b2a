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
	"github.com/fluxcd/pkg/sourceignore/gitignore"
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

func build(root string, ks *kustomizev1.Kustomization, opts BuildOptions) ([]*unstructured.Unstructured, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	dir, err := pathInTree(root, ks.Spec.Path)
	if err != nil {
		return nil, err
	}
	u, err := toUnstructured(ks)
	if err != nil {
		return nil, err
	}
	matcher, err := artifactMatcher(root, opts.Ignore)
	if err != nil {
		return nil, err
	}
	// The generator scans a folder without kustomization.yaml on disk; the
	// ignore patterns keep it from parsing files the artifact leaves out
	// (.sops.yaml, CI config). dropIgnoredResources then applies the exact
	// artifact rules to what it found.
	ignore, err := generatorIgnore(root, dir, opts.Ignore)
	if err != nil {
		return nil, err
	}
	manifest, kfile, action, err := kustomize.NewGeneratorWithIgnore(root, ignore, u).GenerateManifest(dir)
	if err != nil {
		return nil, err
	}
	if action == kustomize.CreatedAction {
		if manifest, err = dropIgnoredResources(manifest, dir, root, matcher); err != nil {
			return nil, err
		}
	}
	disk, err := fluxfs.MakeFsOnDiskSecure(root)
	if err != nil {
		return nil, err
	}
	var fs filesys.FileSystem = ignoreFS{FileSystem: fluxfs.MakeFsInMemory(disk), root: root, matcher: matcher}
	if err := fs.WriteFile(kfile, manifest); err != nil {
		return nil, err
	}
	if opts.WrapFS != nil {
		fs = opts.WrapFS(fs)
	}
	resMap, err := kustomize.Build(fs, dir)
	if err != nil {
		return nil, err
	}
	objs := make([]*unstructured.Unstructured, 0, resMap.Size())
	for _, res := range resMap.Resources() {
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
func dropIgnoredResources(manifest []byte, dir, root string, m gitignore.Matcher) ([]byte, error) {
	var kus kustypes.Kustomization
	if err := yaml.Unmarshal(manifest, &kus); err != nil {
		return nil, err
	}
	fs := ignoreFS{FileSystem: filesys.MakeFsOnDisk(), root: root, matcher: m}
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

// pathInTree resolves spec.path inside root and checks that it is a folder.
func pathInTree(root, specPath string) (string, error) {
	clean := filepath.Clean(filepath.Join("/", specPath))
	dir := filepath.Join(root, clean)
	fi, err := os.Stat(dir)
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
