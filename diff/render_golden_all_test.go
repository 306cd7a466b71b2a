package diff

import "testing"

// TestEveryClassAndFlagMatchesGoldenFiles renders one report that holds
// every change class (pr, drift, pr+drift, a failed base build) and every
// kind of risk flag together, as a reviewer reads them (issue #12: golden
// files of a report with every class and flag). Regenerate with
// go test ./diff -run EveryClassAndFlag -update.
func TestEveryClassAndFlagMatchesGoldenFiles(t *testing.T) {
	r := classReport()
	kinds := map[RiskKind]bool{}
	for _, k := range riskReport().Kustomizations {
		for _, f := range k.Risks {
			kinds[f.Kind] = true
			r.Kustomizations[0].Risks = append(r.Kustomizations[0].Risks, f)
		}
	}
	if len(kinds) < 7 {
		t.Fatalf("the fixture holds %d kinds of risk flag, want all 7", len(kinds))
	}
	out := renderAll(t, r)
	for format, ext := range map[string]string{"text": "txt", "markdown": "md", "json": "json"} {
		t.Run(format, func(t *testing.T) {
			checkGolden(t, "report-classes-risks."+ext, out[format])
		})
	}
}
