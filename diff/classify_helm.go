package diff

// classifyHelm classifies the rendered objects of k's HelmReleases by the
// same HelmRelease in b, the base run's report of the Kustomization (nil
// when the pull request adds it), and adds them to counts:
//   - pr: the base render leaves the object as the cluster holds it, or
//     the base run has no such HelmRelease (the pull request adds it);
//   - drift: the base render changes it exactly as the merge render does,
//     so the cluster differs from Git already and the pull request does
//     not touch it;
//   - pr+drift: both renders change it, differently.
//
// The classes are by object only: rendered objects' dry-runs are not kept
// as a Kustomization's are (see kept), so Fields, PRDiff and DriftDiff stay
// empty. A HelmRelease whose merge or base render failed stays
// unclassified.
func classifyHelm(k, b *KustomizationReport, counts *ClassCounts) {
	base := map[string]*HelmReleaseReport{}
	if b != nil {
		for i := range b.HelmReleases {
			base[b.HelmReleases[i].ID()] = &b.HelmReleases[i]
		}
	}
	for i := range k.HelmReleases {
		h := &k.HelmReleases[i]
		bh := base[h.ID()]
		if h.Error != "" || bh != nil && bh.Error != "" {
			continue
		}
		before := map[string]Change{}
		if bh != nil {
			for _, c := range bh.Changes {
				before[changeKey(c)] = c
			}
		}
		for j, c := range h.Changes {
			if !isChange(c.Action) {
				continue
			}
			prev, ok := before[changeKey(c)]
			switch {
			case !ok || !isChange(prev.Action):
				c.Class = ClassPR
			case prev.Action == c.Action && prev.Diff == c.Diff:
				c.Class = ClassDrift
			default:
				c.Class = ClassPRAndDrift
			}
			h.Changes[j] = c
			counts.add(c.Class)
		}
	}
}
