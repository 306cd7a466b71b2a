package chartfetch

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/Masterminds/semver/v3"
)

// parseVersion is fluxcd/pkg/version.ParseVersion, which source-controller
// uses for chart versions and tags: semver.StrictNewVersion, except that a
// leading "v" is allowed ("v1.2.3").
func parseVersion(s string) (*semver.Version, error) {
	if _, err := semver.StrictNewVersion(strings.TrimPrefix(s, "v")); err != nil {
		return nil, err
	}
	return semver.NewVersion(s)
}

// constraintFor returns the constraint for ver the way source-controller
// does: "" and "*" mean "*", which in Masterminds/semver matches the latest
// stable version only (no prerelease); a prerelease is matched only by a
// constraint that names one (e.g. ">=1.0.0-0").
func constraintFor(ver string) (*semver.Constraints, error) {
	if ver == "" {
		ver = "*"
	}
	c, err := semver.NewConstraint(ver)
	if err != nil {
		return nil, fmt.Errorf("version %q is not a semver version or range: %w", ver, err)
	}
	return c, nil
}

// pickIndexEntry chooses a chart version from an index.yaml as
// source-controller's ChartRepository.getChartVersion does
// (internal/helm/repository/chart_repository.go): an entry whose version
// string equals ver exactly wins; otherwise the highest version matching
// the constraint, versions that do not parse skipped, and among equal
// versions (differing in build metadata) the one created last.
func pickIndexEntry(idx *indexFile, name, ver string) (*indexEntry, error) {
	entries, ok := idx.Entries[name]
	if !ok {
		return nil, fmt.Errorf("no chart named %q in the repository index", name)
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("chart %q has no versions in the repository index", name)
	}
	if ver != "" {
		for i := range entries {
			if entries[i].Version == ver {
				return &entries[i], nil
			}
		}
	}
	constraint, err := constraintFor(ver)
	if err != nil {
		return nil, err
	}
	var best *indexEntry
	var bestV *semver.Version
	for i := range entries {
		v, err := parseVersion(entries[i].Version)
		if err != nil || !constraint.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(bestV) || v.Equal(bestV) && entries[i].Created.After(best.Created) {
			best, bestV = &entries[i], v
		}
	}
	if best == nil {
		return nil, fmt.Errorf("no '%s' chart with version matching '%s' found", name, ver)
	}
	return best, nil
}

// helmTags turns an OCI repository's tags into chart versions as Helm's
// registry client Client.Tags does (pkg/registry/client.go): "_" back to
// "+" (OCI tags cannot hold "+", helm/helm#10166), only strict semver tags
// kept (so no "v" prefix), highest first.
func helmTags(tags []string) []string {
	var vs []*semver.Version
	for _, t := range tags {
		if v, err := semver.StrictNewVersion(strings.ReplaceAll(t, "_", "+")); err == nil {
			vs = append(vs, v)
		}
	}
	sort.Sort(sort.Reverse(semver.Collection(vs)))
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.String()
	}
	return out
}

// pickChartTag chooses the version of a chart in an OCI HelmRepository from
// its versions (helmTags) as source-controller's
// getLastMatchingVersionOrConstraint does
// (internal/helm/repository/oci_chart_repository.go): an exact string match
// first, else the highest version matching the constraint.
func pickChartTag(versions []string, ver string) (string, error) {
	if ver != "" {
		for _, v := range versions {
			if v == ver {
				return v, nil
			}
		}
	}
	constraint, err := constraintFor(ver)
	if err != nil {
		return "", err
	}
	return highest(versions, constraint, fmt.Sprintf("could not locate a version matching provided version string %s", ver))
}

// pickSemverTag chooses an OCIRepository's tag for spec.ref.semver as
// source-controller's OCIRepositoryReconciler.getTagBySemver does
// (internal/controller/ocirepository_controller.go): tags kept by the
// semverFilter regular expression (".*" when empty), then the highest tag
// matching the constraint, returned as written (e.g. "v1.2.3").
func pickSemverTag(tags []string, exp, filter string) (string, error) {
	if filter != "" {
		re, err := regexp.Compile(filter)
		if err != nil {
			return "", fmt.Errorf("semverFilter %q is not a regular expression: %w", filter, err)
		}
		var kept []string
		for _, t := range tags {
			if re.MatchString(t) {
				kept = append(kept, t)
			}
		}
		tags = kept
	}
	constraint, err := semver.NewConstraint(exp)
	if err != nil {
		return "", fmt.Errorf("semver '%s' parse error: %w", exp, err)
	}
	return highest(tags, constraint, fmt.Sprintf("no match found for semver: %s", exp))
}

// highest returns the original string of the highest version in tags that
// parses (parseVersion) and meets c, or an error with notFound.
func highest(tags []string, c *semver.Constraints, notFound string) (string, error) {
	var best *semver.Version
	for _, t := range tags {
		v, err := parseVersion(t)
		if err != nil || !c.Check(v) {
			continue
		}
		if best == nil || v.GreaterThan(best) {
			best = v
		}
	}
	if best == nil {
		return "", fmt.Errorf("%s", notFound)
	}
	return best.Original(), nil
}
