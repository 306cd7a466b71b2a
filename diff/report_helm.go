package diff

// HelmReleaseReport is the diff of one HelmRelease that a Kustomization's
// build holds: its chart rendered the way helm-controller renders it and the
// rendered objects compared with the cluster. It is nested in the
// KustomizationReport that holds the HelmRelease (field helmReleases of
// fluxdiff.report/v1, an addition older readers ignore).
type HelmReleaseReport struct {
	// Namespace and Name identify the HelmRelease object.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// ReleaseName is the Helm release name (spec.releaseName, or
	// [targetNamespace-]name shortened as helm-controller does);
	// ReleaseNamespace the namespace the chart is rendered into
	// (spec.targetNamespace, else the HelmRelease's namespace).
	ReleaseName      string `json:"releaseName,omitempty"`
	ReleaseNamespace string `json:"releaseNamespace,omitempty"`
	// Chart is the chart name; ChartSource where it comes from, as
	// Kind/namespace/name of the source object.
	Chart       string `json:"chart,omitempty"`
	ChartSource string `json:"chartSource,omitempty"`
	// OldVersion is the chart version of the release in the cluster (empty
	// when there is none); NewVersion the version rendered.
	OldVersion string `json:"oldVersion,omitempty"`
	NewVersion string `json:"newVersion,omitempty"`
	// ValuesDiff is a unified diff of the release's values in the cluster
	// (---) to the values rendered (+++), as YAML; values that come from
	// Secrets are masked.
	ValuesDiff string `json:"valuesDiff,omitempty"`
	// Changes lists every rendered object (and the objects of the current
	// release that the render no longer has, as deletions), in a stable
	// order; Counts tallies them.
	Changes []Change `json:"changes"`
	Counts  Counts   `json:"counts"`
	// Risks are the flags on the rendered objects (see Risk), by the rules
	// of the Kustomization's own objects as they apply to what Helm does;
	// each is located at the HelmRelease's manifest.
	Risks []Risk `json:"risks,omitempty"`
	// Hooks and Tests list the chart's hooks and test hooks as
	// "Kind/name (events)": they run around an install or upgrade and are
	// not part of the diff.
	Hooks []string `json:"hooks,omitempty"`
	Tests []string `json:"tests,omitempty"`
	// Error is set when the HelmRelease could not be rendered or diffed
	// (chart not fetched, values reference missing, template error naming
	// the chart and template); Changes is then empty.
	Error string `json:"error,omitempty"`
	// Warnings are notes that do not stop the diff.
	Warnings []string `json:"warnings,omitempty"`
}

// ID is "HelmRelease/namespace/name".
func (h HelmReleaseReport) ID() string { return "HelmRelease/" + h.Namespace + "/" + h.Name }

// Tally fills Counts from Changes.
func (h *HelmReleaseReport) Tally() {
	h.Counts = Counts{}
	for _, c := range h.Changes {
		h.Counts.add(c.Action)
	}
}

// helmChanges reports whether any HelmRelease of k would change objects.
func helmChanges(k KustomizationReport) bool {
	for _, h := range k.HelmReleases {
		if h.Counts.Created+h.Counts.Configured+h.Counts.Deleted > 0 {
			return true
		}
	}
	return false
}

// helmErrors reports whether any HelmRelease of k, or one of its objects,
// failed.
func helmErrors(k KustomizationReport) bool {
	for _, h := range k.HelmReleases {
		if h.Error != "" || h.Counts.Failed > 0 {
			return true
		}
	}
	return false
}

// scrubHelm scrubs every text of the HelmRelease sections of k.
func (s *scrubber) scrubHelm(k *KustomizationReport) {
	for i := range k.HelmReleases {
		h := &k.HelmReleases[i]
		h.Error = s.scrub(h.Error)
		h.ValuesDiff = s.scrub(h.ValuesDiff)
		for j := range h.Warnings {
			h.Warnings[j] = s.scrub(h.Warnings[j])
		}
		for j := range h.Changes {
			h.Changes[j] = s.scrubChange(h.Changes[j])
		}
		for j := range h.Risks {
			f := &h.Risks[j]
			f.Message, f.Old, f.New = s.scrub(f.Message), s.scrub(f.Old), s.scrub(f.New)
		}
	}
}
