package helm

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"

	"github.com/Masterminds/semver/v3"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// chartValuesFileName is a chart's own default values file (Helm's
// chartutil.ValuesfileName).
const chartValuesFileName = "values.yaml"

// valuesFilesOf is spec.valuesFiles as source-controller applies it: the
// deprecated valuesFile first, when set (api/v1beta2
// HelmChart.GetValuesFiles; helm-controller api/v2
// HelmChartTemplateSpec.ValuesFile says it "is merged before the
// ValuesFiles items"), and nil for a list that is only "values.yaml", which
// changes nothing (internal/helm/chart BuildOptions.GetValuesFiles).
func valuesFilesOf(spec chartSpec) []string {
	files := spec.ValuesFiles
	if spec.ValuesFile != "" {
		files = append([]string{spec.ValuesFile}, files...)
	}
	if len(files) == 1 && path.Clean(files[0]) == chartValuesFileName {
		return nil
	}
	return files
}

// withValuesFiles gives lc the default values source-controller packages
// into a HelmChart's artifact when spec.valuesFiles is set: the files are
// merged in the order listed, each over the ones before (nested maps merge,
// anything else replaces: fluxcd/pkg runtime/transform.MergeMaps), and the
// result replaces the chart's values.yaml outright
// (OverwriteChartDefaultValues), so the chart's own values.yaml counts only
// when it is listed. fromTree says where the files are: in the source
// tree, by paths relative to its root (a GitRepository chart:
// builder_local.go mergeFileValues, LocalReference.WorkDir is the source
// root), or in the packaged chart by name, "values.yaml" being its values
// (a HelmRepository chart: builder_remote.go mergeChartValues). A missing
// file is an error unless spec.ignoreMissingValuesFiles; a file that does
// not parse always is. The HelmRelease's values then merge over these
// defaults as over any chart's. The chart's version gets the HelmChart's
// generation as build metadata ("6.9.2+3"), as source-controller sets
// BuildOptions.VersionMetadata when values files are merged (HelmChart
// reconciler buildFromHelmRepository and buildFromTarballArtifact).
func (l *chartLoader) withValuesFiles(lc *loadedChart, spec chartSpec, fromTree bool, generation int64) (*loadedChart, error) {
	files := valuesFilesOf(spec)
	if files == nil {
		return lc, nil
	}
	var tree map[string]any
	if fromTree {
		var err error
		if tree, err = mergeTreeValues(l.in.Root, files, spec.IgnoreMissingValuesFiles); err != nil {
			return nil, fmt.Errorf("chart %s from %s: spec.valuesFiles: %w", spec.Chart, lc.source, err)
		}
	}
	apply := func(ch *chartv2.Chart) error {
		vals := tree
		if !fromTree {
			var err error
			if vals, err = mergePackagedValues(ch, files, spec.IgnoreMissingValuesFiles); err != nil {
				return fmt.Errorf("chart %s from %s: spec.valuesFiles: %w", ch.Name(), lc.source, err)
			}
		}
		if err := setBuildMetadata(ch, generation); err != nil {
			return err
		}
		return setDefaultValues(ch, vals)
	}
	if err := apply(lc.chart); err != nil {
		return nil, err
	}
	reload := lc.reload
	lc.reload = func() (*chartv2.Chart, error) {
		ch, err := reload()
		if err != nil {
			return nil, err
		}
		return ch, apply(ch)
	}
	return lc, nil
}

// mergePackagedValues merges values files of a packaged chart: each name
// is looked up among the chart's files, "values.yaml" standing for the
// chart's values.
func mergePackagedValues(ch *chartv2.Chart, files []string, ignoreMissing bool) (map[string]any, error) {
	merged := map[string]any{}
	for _, p := range files {
		name := path.Clean(p)
		if name == chartValuesFileName {
			merged = mergeMaps(merged, ch.Values)
			continue
		}
		var data []byte
		for _, f := range ch.Files {
			if f.Name == name {
				data = f.Data
				break
			}
		}
		if data == nil {
			if ignoreMissing {
				continue
			}
			return nil, fmt.Errorf("no values file found at path '%s'", p)
		}
		vals, err := parseValuesFile(p, data)
		if err != nil {
			return nil, err
		}
		merged = mergeMaps(merged, vals)
	}
	return merged, nil
}

// mergeTreeValues merges values files of a source tree, by paths relative
// to root that may not leave it (a ".." stops at root, as securejoin does).
func mergeTreeValues(root string, files []string, ignoreMissing bool) (map[string]any, error) {
	merged := map[string]any{}
	for _, p := range files {
		rel := path.Clean("/" + filepath.ToSlash(p))
		full := filepath.Join(root, filepath.FromSlash(rel))
		info, err := os.Stat(full)
		switch {
		case err != nil && ignoreMissing && errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil || !info.Mode().IsRegular():
			return nil, fmt.Errorf("no values file found at path '%s' (reference '%s')", rel, p)
		}
		data, err := os.ReadFile(full)
		if err != nil {
			return nil, fmt.Errorf("could not read values from file '%s': %w", p, err)
		}
		vals, err := parseValuesFile(p, data)
		if err != nil {
			return nil, err
		}
		merged = mergeMaps(merged, vals)
	}
	return merged, nil
}

func parseValuesFile(name string, data []byte) (map[string]any, error) {
	vals := map[string]any{}
	if err := yaml.Unmarshal(data, &vals); err != nil {
		return nil, fmt.Errorf("unmarshaling values from '%s' failed: %w", name, err)
	}
	return vals, nil
}

// setDefaultValues makes vals ch's default values, in Values and in the
// raw values.yaml (source-controller OverwriteChartDefaultValues).
func setDefaultValues(ch *chartv2.Chart, vals map[string]any) error {
	var raw []byte
	if len(vals) > 0 {
		var err error
		if raw, err = yaml.Marshal(vals); err != nil {
			return fmt.Errorf("chart %s: encode merged values: %w", ch.Name(), err)
		}
	}
	for _, f := range ch.Raw {
		if f.Name == chartValuesFileName {
			f.Data = raw
		}
	}
	ch.Values = vals
	return nil
}

// setBuildMetadata replaces the build metadata of ch's version with the
// generation (source-controller internal/helm/chart setBuildMetaData).
func setBuildMetadata(ch *chartv2.Chart, generation int64) error {
	v, err := semver.NewVersion(ch.Metadata.Version)
	if err != nil {
		return fmt.Errorf("chart %s: version %q is not semver: %w", ch.Name(), ch.Metadata.Version, err)
	}
	withMeta, err := v.SetMetadata(strconv.FormatInt(generation, 10))
	if err != nil {
		return fmt.Errorf("chart %s: set version metadata: %w", ch.Name(), err)
	}
	ch.Metadata.Version = withMeta.String()
	return nil
}

// chartGeneration is the metadata.generation the HelmChart built from spec
// has once the change is applied: 1 when the cluster has no such HelmChart
// (live nil), the live one's when the change keeps the fields compared
// (chart, version, sourceRef kind and name, valuesFiles,
// ignoreMissingValuesFiles), one more when it changes them (the API server
// bumps the generation on a spec change). Changes to other spec fields
// (interval, reconcileStrategy, verify) are not seen.
func chartGeneration(spec chartSpec, live *unstructured.Unstructured) int64 {
	if live == nil {
		return 1
	}
	var was chartSpec
	if err := fromField(live, &was, "spec"); err != nil {
		return live.GetGeneration() + 1
	}
	same := spec.Chart == was.Chart && defaultString(spec.Version, "*") == defaultString(was.Version, "*") &&
		spec.SourceRef.Kind == was.SourceRef.Kind && spec.SourceRef.Name == was.SourceRef.Name &&
		slices.Equal(valuesFilesOf(spec), valuesFilesOf(was)) && spec.IgnoreMissingValuesFiles == was.IgnoreMissingValuesFiles
	if same {
		return live.GetGeneration()
	}
	return live.GetGeneration() + 1
}
