package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/scheme"
)

type diffOptions struct {
	namespace, path, root, base, kubeconfig, kubeContext, ksFile, output string
	recursive                                                            bool
	concurrency                                                          int
	timeout                                                              time.Duration

	// helm renders HelmReleases (--helm); helmOnly limits it to one
	// ("namespace/name", diff helmrelease); ksName is its --kustomization.
	helm             bool
	helmOnly, ksName string

	// impersonate and defaultSA are --impersonate and
	// --default-service-account (see addTenancyFlags).
	impersonate bool
	defaultSA   string
}

func newDiffCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff",
		Short: "Diff local sources against a cluster",
	}
	cmd.AddCommand(newDiffKustomizationCmd(), newDiffHelmReleaseCmd())
	return cmd
}

func newDiffKustomizationCmd() *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:     "kustomization NAME --path DIR",
		Aliases: []string{"ks"},
		Short:   "Diff a Flux Kustomization built from a local folder against the cluster",
		Long: `Build the Flux Kustomization NAME from a local folder the way kustomize-controller
would, and compare the result with the cluster using a server-side apply dry-run.

The spec (patches, images, postBuild, prune...) comes from the live Kustomization
NAME, or from --kustomization-file for one that does not exist yet. --path is the
local folder that corresponds to spec.path; files outside it (bases, components)
are read relative to the source root, as Flux reads them from the source
artifact. The root is --root when given, else the enclosing Git checkout, else
--path minus the Kustomization's spec.path when --path ends with it, else --path.

With --base DIR (the source root of the base branch, e.g. a second checkout
or a git worktree of main), the same Kustomizations are also built from DIR and
diffed against the cluster, and every change is classified: pr (the local tree
changes it), drift (the cluster already differs from the base branch there, and
the local tree does not touch it) or pr+drift. Drift is listed on its own, after
the local tree's changes.

A Kustomization whose source is an ExternalArtifact made by an
ArtifactGenerator (Flux 2.7) builds, as kustomize-controller does, from the
artifact that the generator's copy rules assemble: fluxdiff assembles it from
the Git checkout that holds --path (or --root), and from --base likewise, and
builds spec.path inside it. Each must be a checkout of the repository the
generator copies from (one of its Git remotes), or the diff is refused.

With --impersonate the dry-run runs as the service account Flux applies the
Kustomization as (spec.serviceAccountName, else --default-service-account),
so that RBAC refuses what it would refuse Flux; without it, such a
Kustomization gets the warning that impersonation is off.

Exit status: 0 when nothing would change, 1 when something would change,
2 on any error (each on stderr, naming the object or file).`,
		Example: `  fluxdiff diff kustomization podinfo --path ./kustomize
  fluxdiff diff ks apps -n flux-system --path ./apps --recursive -o markdown
  fluxdiff diff ks apps --path ./apps --base ../fleet-main   # tell the change from drift
  fluxdiff diff ks apps --path .        # Flux 2.7: reads the ExternalArtifact "apps"
  fluxdiff diff ks tenant-apps --path ./tenants/a --impersonate`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiffKustomization(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), args[0], o)
		},
	}
	addKustomizationFlags(cmd.Flags(), o)
	_ = cmd.MarkFlagRequired("path")
	return cmd
}

// addKustomizationFlags registers the flags of `diff kustomization` on f.
func addKustomizationFlags(f *pflag.FlagSet, o *diffOptions) {
	f.StringVarP(&o.namespace, "namespace", "n", "flux-system", "namespace of the Kustomization")
	f.StringVar(&o.path, "path", "", "local folder that matches the Kustomization's spec.path; for one that reads an ExternalArtifact, a folder of the checkout the artifact is assembled from (required)")
	f.StringVar(&o.root, "root", "", "local folder that corresponds to the source's root (default: the Git checkout holding --path, or --path minus spec.path)")
	f.StringVar(&o.base, "base", "", "source root of the base branch: classify each change as pr, drift or pr+drift against it")
	f.StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	f.StringVar(&o.kubeContext, "context", "", "kubeconfig context (default: the current one)")
	f.StringVar(&o.ksFile, "kustomization-file", "", "YAML file with the Kustomization, for one not yet in the cluster")
	f.BoolVar(&o.recursive, "recursive", false, "also diff Kustomizations found in the build that use the same source")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text, markdown or json")
	f.IntVar(&o.concurrency, "concurrency", diff.DefaultConcurrency, "parallel dry-run requests")
	f.BoolVar(&o.helm, "helm", true, "render the HelmReleases the change touches as helm-controller would and diff their objects")
	f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "give up after this long")
	addTenancyFlags(f, o)
}

func runDiffKustomization(ctx context.Context, stdout, stderr io.Writer, name string, o *diffOptions) error {
	render, err := renderer(o.output)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	if err := checkFolder("--path", o.path); err != nil {
		return &codeError{code: exitError, err: err}
	}
	cl := kube.LoadCluster(kube.ClusterSpec{Name: o.kubeContext, Kubeconfig: o.kubeconfig, Context: o.kubeContext})
	if cl.LoadErr != nil {
		return &codeError{code: exitError, err: cl.LoadErr}
	}
	c, err := client.New(cl.Config, client.Options{Scheme: scheme.New()})
	if err != nil {
		return &codeError{code: exitError, err: fmt.Errorf("cluster client: %w", err)}
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	ks, err := loadKustomization(ctx, c, name, o)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	req, hint, done, err := diffRequest(ctx, c, ks, o)
	defer done()
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	d, err := newDiffer(ctx, cl, c, ks, o)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	rep, err := d.Diff(ctx, req)
	if err != nil {
		return &codeError{code: exitError, err: err}
	}
	addImpersonationWarning(rep, ks, o)
	if o.helmOnly != "" {
		if err := onlyHelmRelease(rep, o.helmOnly); err != nil {
			return &codeError{code: exitError, err: err}
		}
	}
	if err := render(stdout, rep); err != nil {
		return &codeError{code: exitError, err: err}
	}
	printBaseErrors(stderr, rep)
	if rep.HasErrors() {
		printReportErrors(stderr, rep)
		if hint != "" && len(rep.Kustomizations) > 0 && rep.Kustomizations[0].Error != "" {
			fmt.Fprintln(stderr, "hint: "+hint)
		}
		return &codeError{code: exitError}
	}
	if rep.HasChanges() {
		return &codeError{code: exitChanges}
	}
	return nil
}

// diffRequest is what the engine builds for ks: the source root and
// spec.path from --path and --root, the base root from --base; for a
// Kustomization that reads an ExternalArtifact, the artifacts assembled
// from those checkouts (see artifactRequest). hint says how to fix a build
// that fails because the root was guessed; done removes temporary trees.
func diffRequest(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, o *diffOptions) (req diff.Request, hint string, done func(), err error) {
	req = diff.Request{Kustomization: ks, Recursive: o.recursive}
	if ks.Spec.SourceRef.Kind == sourcev1.ExternalArtifactKind {
		req, done, err = artifactRequest(ctx, c, req, o)
		return req, "", done, err
	}
	done = func() {}
	src, err := sourceRoot(o.path, o.root, ks.Spec.Path)
	if err != nil {
		return req, "", done, err
	}
	ks.Spec.Path = src.specPath
	if req.Base, err = baseRoot(o.base); err != nil {
		return req, "", done, err
	}
	req.Root, req.Ignore = src.root, sourceIgnore(ctx, c, ks)
	return req, src.hint, done, nil
}

func renderer(format string) (func(io.Writer, *diff.Report) error, error) {
	switch format {
	case "text":
		return diff.WriteText, nil
	case "markdown", "md":
		return diff.WriteMarkdown, nil
	case "json":
		return diff.WriteJSON, nil
	}
	return nil, fmt.Errorf("--output %q: want text, markdown or json", format)
}

// source is where the local source tree lies.
type source struct {
	// root is the folder that stands for the source's root, and specPath
	// --path inside it, as spec.path.
	root, specPath string
	// hint says how to fix a build that fails because the root was guessed.
	hint string
}

// sourceRoot works out the source root for --path (dir): --root (rootFlag)
// when given; else the Git checkout that holds dir; else dir minus the
// Kustomization's spec.path when dir ends with it, as the artifact holds
// spec.path below its root; else dir itself, with a hint for when files
// outside it are needed.
func sourceRoot(dir, rootFlag, specPath string) (source, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return source{}, err
	}
	if rootFlag != "" {
		if err := checkFolder("--root", rootFlag); err != nil {
			return source{}, err
		}
		root, err := filepath.Abs(rootFlag)
		if err != nil {
			return source{}, err
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return source{}, fmt.Errorf("--path %s is not inside --root %s", dir, rootFlag)
		}
		return source{root: root, specPath: "./" + filepath.ToSlash(rel)}, nil
	}
	for d := abs; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, ".git")); err == nil {
			rel, err := filepath.Rel(d, abs)
			return source{root: d, specPath: "./" + filepath.ToSlash(rel)}, err
		}
		if filepath.Dir(d) == d {
			break
		}
	}
	clean := strings.Trim(path.Clean("/"+filepath.ToSlash(specPath)), "/")
	if clean == "" {
		return source{root: abs, specPath: "./"}, nil
	}
	if suffix := string(filepath.Separator) + filepath.FromSlash(clean); strings.HasSuffix(abs, suffix) {
		return source{root: strings.TrimSuffix(abs, suffix), specPath: "./" + clean}, nil
	}
	return source{root: abs, specPath: "./", hint: fmt.Sprintf(
		"--path %s is not in a Git checkout and does not end with the Kustomization's spec.path %q, so it is taken as the source root and nothing outside it can be read; pass --root DIR, the folder that holds the source's root (spec.path is below it)",
		dir, specPath)}, nil
}

// checkFolder checks that the folder given with flag exists.
func checkFolder(flag, dir string) error {
	fi, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, dir, errors.Unwrap(err))
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s %s: not a folder", flag, dir)
	}
	return nil
}

// loadKustomization reads the Kustomization from --kustomization-file or
// the cluster. A file's Kustomization still takes the live status (its
// inventory, for prune) when one exists.
func loadKustomization(ctx context.Context, c client.Client, name string, o *diffOptions) (*kustomizev1.Kustomization, error) {
	live := &kustomizev1.Kustomization{}
	err := c.Get(ctx, client.ObjectKey{Namespace: o.namespace, Name: name}, live)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get Kustomization %s/%s: %w", o.namespace, name, err)
	}
	found := err == nil
	if o.ksFile == "" {
		if !found {
			return nil, fmt.Errorf("no Kustomization %s/%s in the cluster; pass --kustomization-file for one that does not exist yet", o.namespace, name)
		}
		return live, nil
	}
	b, err := os.ReadFile(o.ksFile)
	if err != nil {
		return nil, fmt.Errorf("--kustomization-file: %w", err)
	}
	ks, err := kustomizationFromFile(b, name, o.namespace)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.ksFile, err)
	}
	if found && ks.Namespace == live.Namespace {
		ks.Status = live.Status
	}
	return ks, nil
}

// sourceIgnore returns the spec.ignore of the Kustomization's GitRepository,
// which source-controller applies when it packages the artifact; "" when
// there is none or it cannot be read.
func sourceIgnore(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization) string {
	ref := ks.Spec.SourceRef
	if ref.Kind != sourcev1.GitRepositoryKind {
		return ""
	}
	ns := ref.Namespace
	if ns == "" {
		ns = ks.Namespace
	}
	repo := &sourcev1.GitRepository{}
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: ref.Name}, repo); err != nil || repo.Spec.Ignore == nil {
		return ""
	}
	return *repo.Spec.Ignore
}

// kustomizationFromFile finds the Kustomization name/namespace among the
// YAML documents of a file (a file often holds several).
func kustomizationFromFile(b []byte, name, namespace string) (*kustomizev1.Kustomization, error) {
	var found []string
	for i, doc := range strings.Split(string(b), "\n---") {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		ks := &kustomizev1.Kustomization{}
		if err := yaml.UnmarshalStrict([]byte(doc), ks); err != nil {
			var meta metav1.TypeMeta
			if yaml.Unmarshal([]byte(doc), &meta) == nil && meta.Kind != kustomizev1.KustomizationKind {
				continue // another kind of object, with its own fields
			}
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		if ks.Kind != kustomizev1.KustomizationKind || ks.APIVersion != kustomizev1.GroupVersion.String() {
			continue
		}
		if ks.Namespace == "" {
			ks.Namespace = namespace
		}
		if ks.Name == name && ks.Namespace == namespace {
			return ks, nil
		}
		found = append(found, ks.Namespace+"/"+ks.Name)
	}
	if len(found) == 0 {
		return nil, fmt.Errorf("no %s Kustomization in the file", kustomizev1.GroupVersion)
	}
	return nil, fmt.Errorf("no Kustomization %s/%s in the file (it holds %s)", namespace, name, strings.Join(found, ", "))
}

// printReportErrors writes one line per failed Kustomization or object.
func printReportErrors(w io.Writer, rep *diff.Report) {
	for _, k := range rep.Kustomizations {
		if k.Error != "" {
			fmt.Fprintf(w, "error: Kustomization %s/%s: %s\n", k.Namespace, k.Name, k.Error)
		}
		for _, c := range k.Changes {
			if c.Action == diff.ActionFailed {
				fmt.Fprintf(w, "error: %s: %s\n", c.ID(), c.Reason)
			}
		}
	}
}
