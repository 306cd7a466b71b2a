package chat

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/slack-go/slack"

	"github.com/fluxdiff/fluxdiff/diff"
)

// sectionByID returns the text of the section block with id, or "".
func sectionByID(blocks []slack.Block, id string) string {
	for _, b := range blocks {
		if s, ok := b.(*slack.SectionBlock); ok && s.BlockID == id && s.Text != nil {
			return s.Text.Text
		}
	}
	return ""
}

// inOrder fails t unless every one of subs is in all, each after the one
// before it.
func inOrder(t *testing.T, all string, subs ...string) {
	t.Helper()
	at := 0
	for _, s := range subs {
		i := strings.Index(all[at:], s)
		if i < 0 {
			t.Errorf("%q is not after %d in:\n%s", s, at, all)
			return
		}
		at += i + len(s)
	}
}

// The message shows what the pull request comment shows: the blast radius
// first, every risk flag under a warning with where it was found, the
// image changes apart, each Kustomization's HelmReleases under it (chart
// versions, values, objects, hooks and tests, errors), and the drift of
// every Kustomization after all the pull request's changes.
func TestRenderShowsBlastRadiusRisksHelmReleasesAndDrift(t *testing.T) {
	rep := loadReport(t, "risky")
	blocks := Render(Message{Report: rep, ReportID: 11}).Blocks
	checkSlackLimits(t, blocks)

	totals := sectionByID(blocks, "fluxdiff_totals")
	if want := ":warning: *Blast radius:* " + rep.BlastRadius().String(); !strings.HasPrefix(totals, want) {
		t.Errorf("totals %q do not open with %q", totals, want)
	}
	checkRiskSections(t, rep, blocks)

	all := strings.Join(sectionTexts(t, blocks), "\n")
	for _, k := range rep.Kustomizations {
		want := fmt.Sprintf("• `%s/%s` on `%s`: ", k.Namespace, k.Name, k.Cluster)
		line := all[strings.Index(all, want):]
		if line, _, _ = strings.Cut(line, "\n"); !strings.Contains(line, fmt.Sprintf(":warning: %d risk flags", riskCount(k))) || !strings.Contains(line, "HelmRelease") {
			t.Errorf("summary line %q lacks the risk flags or the HelmReleases", line)
		}
	}
	checkFlaggedTitles(t, rep, all)
	h := rep.Kustomizations[0].HelmReleases[0]
	inOrder(t, all,
		"*Kustomization `flux-system/apps`* on `staging`",
		"+      app: web-v2", // the pull request's part of a pr+drift object
		"⎈ *HelmRelease `podinfo/podinfo`* · chart `podinfo` 6.9.1 → 6.9.2 · 1 created, 1 configured",
		"*values changed* `HelmRelease/podinfo/podinfo`\n```\n"+esc(h.ValuesDiff)+"\n```",
		"*configured* `Deployment/podinfo/podinfo`",
		"*created* `ConfigMap/podinfo/podinfo-extra`",
		"Hooks and tests (not diffed): Job/podinfo-migrate (pre-upgrade), Pod/podinfo-grpc-test (test)",
		":warning: the chart's values.schema.json was not checked",
		"*Kustomization `flux-system/infra`* on `production`",
		"*configured* `ClusterRole/ops` · pr",
		"⎈ *HelmRelease `infra/ingress`* · chart `ingress-nginx` 4.11.0 → 4.12.0\n",
		":x: *could not be rendered*\n```\nchart ingress-nginx 4.12.0: template:",
		"*Drift* (not caused by this change) — "+diff.DriftExplanation,
		"*Drift in Kustomization `flux-system/apps`* on `staging` · 2 drifted objects",
		"+  replicas: 2", // the drift part of the pr+drift object
		"debug.example.com/owner: alice",
		"*Drift in Kustomization `flux-system/infra`* on `production` · 1 drifted object",
		"*created* `ServiceAccount/infra/by-hand` · drift",
	)
	if strings.Contains(all, "infra/quiet") {
		t.Errorf("a HelmRelease that changes nothing is shown:\n%s", all)
	}
	if strings.Count(all, "replicas: 2") != 1 {
		t.Errorf("the drifted replicas are shown %d times, want once", strings.Count(all, "replicas: 2"))
	}
}

// checkRiskSections checks that every risk flag of rep is a warning line
// of the risk section, with its kind, object, place and message, and every
// image change a line of the image section.
func checkRiskSections(t *testing.T, rep *diff.Report, blocks []slack.Block) {
	t.Helper()
	risks, images := sectionByID(blocks, blockRisks), sectionByID(blocks, blockImages)
	flags := 0
	for _, f := range rep.Risks() {
		if !f.Warning() {
			if line := "`" + esc(f.ObjectID()) + "`" + esc(f.Where()) + " `" + esc(f.Field) + "`: `" + f.Old + "` → `" + f.New + "`"; !strings.Contains(images, line) {
				t.Errorf("image changes lack %q:\n%s", line, images)
			}
			continue
		}
		flags++
		if line := ":warning: *" + string(f.Kind) + "* `" + esc(f.ObjectID()) + "`" + esc(f.Where()) + " — " + esc(f.Message); !strings.Contains(risks, line) {
			t.Errorf("risk flags lack %q:\n%s", line, risks)
		}
	}
	if n := strings.Count(risks, "• :warning:"); n != flags || flags == 0 {
		t.Errorf("%d flag lines, want the report's %d risk flags:\n%s", n, flags, risks)
	}
	if strings.Contains(risks, "redis:7.4") {
		t.Errorf("an image change is listed as a risk flag:\n%s", risks)
	}
}

// checkFlaggedTitles checks that each changed object with a risk flag has
// the flag's kind after a :warning: on its title line.
func checkFlaggedTitles(t *testing.T, rep *diff.Report, all string) {
	t.Helper()
	marked := 0
	for _, k := range rep.Kustomizations {
		for _, f := range k.Risks {
			for _, ch := range k.Changes {
				if f.Warning() && ch.ID() == f.ObjectID() {
					marked++
					if title := fmt.Sprintf("*%s* `%s` · %s · :warning: *%s*\n", ch.Action, esc(ch.ID()), ch.Class, f.Kind); !strings.Contains(all, title) {
						t.Errorf("the flagged object's title %q is missing", title)
					}
				}
			}
		}
	}
	if marked == 0 {
		t.Error("the fixture flags none of its changed objects")
	}
}

var andMore = regexp.MustCompile(`…and (\d+) more (risk flag|image change)s?, in the full report`)

// oversizedReport has kustomizations Kustomizations, each with flags risk
// flags, images image changes, releases HelmReleases of a long values diff
// and objects drifted objects.
func oversizedReport(kustomizations, flags, images, releases, objects int) *diff.Report {
	rep := bigReport(0, 0)
	rep.PullRequest.Title = strings.Repeat("A very long pull request title ", 20)
	rep.Base = strings.Repeat("7", 40)
	long := func(prefix string) string {
		var b strings.Builder
		b.WriteString("--- live\n+++ merged")
		for i := range 120 {
			fmt.Fprintf(&b, "\n+  %s%03d: '***'", prefix, i)
		}
		return b.String()
	}
	rep.Kustomizations = nil
	for ki := range kustomizations {
		k := diff.KustomizationReport{Cluster: fmt.Sprintf("cluster-%d", ki), Namespace: "flux-system", Name: "apps", Path: "./apps",
			Classes: &diff.ClassCounts{Drift: objects}}
		for i := range flags {
			k.Risks = append(k.Risks, diff.Risk{Kind: diff.RiskDeletion, APIVersion: "v1", ObjectKind: "PersistentVolumeClaim",
				Namespace: "data", Name: fmt.Sprintf("volume-%03d", i), Message: "deleted by prune (it left the build), its volume's data may be lost"})
		}
		for i := range images {
			k.Risks = append(k.Risks, diff.Risk{Kind: diff.RiskImage, APIVersion: "apps/v1", ObjectKind: "Deployment", Namespace: "apps",
				Name: fmt.Sprintf("web-%03d", i), Field: "spec.template.spec.containers[web].image", Old: "nginx:1.27", New: "nginx:1.28"})
		}
		for i := range releases {
			k.HelmReleases = append(k.HelmReleases, diff.HelmReleaseReport{Namespace: "apps", Name: fmt.Sprintf("release-%02d", i),
				Chart: "podinfo", OldVersion: "6.9.1", NewVersion: "6.9.2", ValuesDiff: long("value"), Hooks: []string{"Job/migrate (pre-upgrade)"}})
		}
		for i := range objects {
			k.Changes = append(k.Changes, diff.Change{Action: diff.ActionConfigured, APIVersion: "v1", Kind: "ConfigMap", Namespace: "apps",
				Name: fmt.Sprintf("drifted-%03d", i), Class: diff.ClassDrift, Diff: long("key")})
			k.Counts.Configured++
		}
		rep.Kustomizations = append(rep.Kustomizations, k)
	}
	return rep
}

// A report far over Slack's limits still opens with the blast radius,
// lists as many flags as fit and says how many more there are, keeps the
// buttons, and is accepted by Slack.
func TestRenderOversizedReportStaysWithinSlackLimits(t *testing.T) {
	tests := []struct {
		name                                      string
		kustomizations, flags, images, rels, objs int
		wantCut                                   bool
	}{
		{"a few flags fit whole", 1, 3, 2, 0, 0, false},
		{"hundreds of flags, images, releases and drifted objects", 3, 120, 60, 10, 20, true},
		{"one Kustomization with flags just over a section", 1, 40, 0, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := oversizedReport(tt.kustomizations, tt.flags, tt.images, tt.rels, tt.objs)
			r := Render(Message{Report: rep, ReportID: 12})
			checkSlackLimits(t, r.Blocks)
			if len(r.Blocks) > DefaultLimits.Blocks {
				t.Errorf("%d blocks", len(r.Blocks))
			}
			if !strings.Contains(sectionByID(r.Blocks, "fluxdiff_totals"), rep.BlastRadius().String()) {
				t.Error("the blast radius is missing")
			}
			shown := map[string]int{}
			for id, what := range map[string]string{blockRisks: "risk flag", blockImages: "image change"} {
				text := sectionByID(r.Blocks, id)
				shown[what] = strings.Count(text, "\n• ")
				if m := andMore.FindStringSubmatch(text); m != nil {
					n, _ := strconv.Atoi(m[1])
					shown[what] += n
				}
			}
			if want := tt.kustomizations * tt.flags; shown["risk flag"] != want {
				t.Errorf("%d risk flags shown or counted as more, want %d", shown["risk flag"], want)
			}
			if want := tt.kustomizations * tt.images; shown["image change"] != want {
				t.Errorf("%d image changes shown or counted as more, want %d", shown["image change"], want)
			}
			raw, err := json.Marshal(r.Blocks)
			if err != nil {
				t.Fatal(err)
			}
			cut := andMore.Match(raw)
			if cut != tt.wantCut || (cut && !r.OmittedOther) || (r.NeedsFile() && !strings.Contains(string(raw), "is attached in this message's thread")) {
				t.Errorf("cut %v (want %v), OmittedOther %v, NeedsFile %v: a cut list must send for the full report", cut, tt.wantCut, r.OmittedOther, r.NeedsFile())
			}
			for _, b := range []string{ActionPostToPR, ActionApprove, ActionViewPR} {
				if !strings.Contains(string(raw), `"action_id":"`+b+`"`) {
					t.Errorf("the %s button is missing", b)
				}
			}
		})
	}
}
