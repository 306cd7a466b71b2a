package chartfetch

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// The expected versions are what source-controller picks:
// ChartRepository.getChartVersion for an index.yaml,
// getLastMatchingVersionOrConstraint (after Helm's registry Client.Tags) for
// an OCI HelmRepository, OCIRepositoryReconciler.getTagBySemver for an
// OCIRepository's spec.ref.semver.
func TestPickIndexEntry(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	idx := &indexFile{APIVersion: "v1", Entries: map[string][]indexEntry{"hello": {
		{Version: "1.0.0", Created: day(1)},
		{Version: "1.1.0+a", Created: day(2)},
		{Version: "1.1.0+b", Created: day(3)},
		{Version: "2.0.0-rc.1", Created: day(4)},
		{Version: "v1.2.0", Created: day(5)},
		{Version: "not-semver", Created: day(6)},
	}}}
	for _, tc := range []struct{ ver, want, err string }{
		{ver: "", want: "v1.2.0"},  // "*": latest stable; "v1.2.0" parses (v allowed)
		{ver: "*", want: "v1.2.0"}, // same
		{ver: "1.0.x", want: "1.0.0"},
		{ver: "~1.1", want: "1.1.0+b"},          // equal versions: the one created last
		{ver: ">=2.0.0-0", want: "2.0.0-rc.1"},  // a prerelease only when the range names one
		{ver: "2.0.0-rc.1", want: "2.0.0-rc.1"}, // exact string match first
		{ver: "not-semver", want: "not-semver"}, // exact match even if not semver
		{ver: ">5", err: "no 'hello' chart with version matching '>5' found"},
		{ver: "bogus!", err: "is not a semver version or range"},
	} {
		e, err := pickIndexEntry(idx, "hello", tc.ver)
		got := ""
		if e != nil {
			got = e.Version
		}
		if got != tc.want || (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("version %q: got %q, %v; want %q, %q", tc.ver, got, err, tc.want, tc.err)
		}
	}
}

func TestHelmTagsAndPickChartTag(t *testing.T) {
	versions := helmTags([]string{"1.0.0", "1.1.0_build.1", "v2.0.0", "2.0.0-rc.1", "latest", "sha256-abc.sig"})
	if diff := cmp.Diff([]string{"2.0.0-rc.1", "1.1.0+build.1", "1.0.0"}, versions); diff != "" {
		t.Errorf("helmTags (-want +got):\n%s", diff)
	}
	for ver, want := range map[string]string{
		"":           "1.1.0+build.1",
		"*":          "1.1.0+build.1",
		"~1.0":       "1.0.0",
		">=2.0.0-0":  "2.0.0-rc.1",
		"2.0.0-rc.1": "2.0.0-rc.1",
	} {
		got, err := pickChartTag(versions, ver)
		if err != nil || got != want {
			t.Errorf("version %q: got %q, %v; want %q", ver, got, err, want)
		}
	}
	if _, err := pickChartTag(versions, ">3"); err == nil || !strings.Contains(err.Error(), "could not locate a version matching provided version string >3") {
		t.Errorf("error %v, want source-controller's no-match message", err)
	}
}

func TestPickSemverTag(t *testing.T) {
	tags := []string{"v1.0.0", "v1.2.0", "1.1.0", "latest", "v2.0.0-rc.1"}
	for _, tc := range []struct{ semver, filter, want string }{
		{"~1", "", "v1.2.0"}, // the tag as written
		{">=1.0.0", "^1", "1.1.0"},
		{"*", "", "v1.2.0"},
		{">=2.0.0-0", "", "v2.0.0-rc.1"},
	} {
		got, err := pickSemverTag(tags, tc.semver, tc.filter)
		if err != nil || got != tc.want {
			t.Errorf("semver %q filter %q: got %q, %v; want %q", tc.semver, tc.filter, got, err, tc.want)
		}
	}
	if _, err := pickSemverTag(tags, ">5", ""); err == nil || err.Error() != "no match found for semver: >5" {
		t.Errorf("error %v, want source-controller's no-match message", err)
	}
}
