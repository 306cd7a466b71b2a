package diff

import "time"

// SchemaVersion identifies the JSON shape of a Report. It changes only when
// a field is removed or changes meaning; new fields may be added.
const SchemaVersion = "fluxdiff.report/v1"

// Action is what applying the build would do to one object.
type Action string

// The actions, in the order they are listed.
const (
	// ActionCreated: the object does not exist in the cluster.
	ActionCreated Action = "created"
	// ActionConfigured: the object exists and would change.
	ActionConfigured Action = "configured"
	// ActionDeleted: the object is in the inventory, no longer built, and
	// the Kustomization prunes.
	ActionDeleted Action = "deleted"
	// ActionUnchanged: the object exists and would not change.
	ActionUnchanged Action = "unchanged"
	// ActionSkipped: an annotation tells Flux to leave the object alone.
	ActionSkipped Action = "skipped"
	// ActionFailed: the object could not be diffed; Change.Error says why.
	ActionFailed Action = "failed"
)

// Actions lists every action in display order.
var Actions = []Action{ActionCreated, ActionConfigured, ActionDeleted, ActionUnchanged, ActionSkipped, ActionFailed}

// Report is the result of diffing one or more Kustomizations.
type Report struct {
	// SchemaVersion is always SchemaVersion.
	SchemaVersion string `json:"schemaVersion"`
	// Created is when the diff ran.
	Created time.Time `json:"created"`
	// PullRequest describes the pull request the report was made for; nil
	// for a local diff.
	PullRequest *PullRequestInfo `json:"pullRequest,omitempty"`
	// Clusters names every cluster the report covers, in configuration
	// order, including those that could not be asked (their rows say why).
	Clusters []string `json:"clusters,omitempty"`
	// Error is set when nothing could be diffed at all (a merge conflict, a
	// source that cannot be fetched); Kustomizations is then empty.
	Error string `json:"error,omitempty"`
	// Notes are report-wide remarks shown above the Kustomizations, e.g.
	// "the pull request changes more than 3,000 files: every Kustomization
	// of the repository was diffed".
	Notes []string `json:"notes,omitempty"`
	// Kustomizations holds one entry per Kustomization diffed, nested ones
	// (see KustomizationReport.Parent) after their parent.
	Kustomizations []KustomizationReport `json:"kustomizations"`
	// Base names the base tree the changes were classified against (see
	// Class): the base commit's SHA for a pull request, the folder for a
	// local diff; empty when changes are not classified.
	Base string `json:"base,omitempty"`
}

// PullRequestInfo identifies the pull request and commits a Report was built
// from, for renderings that link back to it.
type PullRequestInfo struct {
	// InstallationID is the GitHub App installation that can act on it.
	InstallationID int64 `json:"installationID,omitempty"`
	// Repo is "owner/name"; Number the pull request number.
	Repo   string `json:"repo"`
	Number int    `json:"number"`
	// Title, Author (login) and URL (html_url) as GitHub gives them.
	Title  string `json:"title,omitempty"`
	Author string `json:"author,omitempty"`
	URL    string `json:"url,omitempty"`
	// BaseRef is the base branch; HeadSHA the pull request's head commit;
	// MergeSHA the test-merge commit that was built.
	BaseRef  string `json:"baseRef,omitempty"`
	HeadSHA  string `json:"headSHA"`
	MergeSHA string `json:"mergeSHA,omitempty"`
	// Trigger says what asked for the diff, e.g. "pull_request.opened".
	Trigger string `json:"trigger,omitempty"`
	// RequestedBy is the login of the person who asked, when one did.
	RequestedBy string `json:"requestedBy,omitempty"`
}

// KustomizationReport is the diff of one Kustomization.
type KustomizationReport struct {
	// Cluster names the cluster, when known: the one that holds the
	// Kustomization.
	Cluster string `json:"cluster,omitempty"`
	// Target names the cluster the Kustomization applies to when that is
	// another one (spec.kubeConfig; see Differ.Target); empty otherwise.
	Target string `json:"target,omitempty"`
	// Namespace and Name identify the Kustomization.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Path is spec.path, the folder built.
	Path string `json:"path"`
	// Source is the sourceRef as Kind/namespace/name.
	Source string `json:"source,omitempty"`
	// Parent is "namespace/name" of the Kustomization whose build contained
	// this one (recursive diffs); empty at the top level.
	Parent string `json:"parent,omitempty"`
	// Changes lists every object, in a stable order.
	Changes []Change `json:"changes"`
	// Counts tallies Changes by action.
	Counts Counts `json:"counts"`
	// Error is set when the Kustomization as a whole could not be diffed
	// (build error, missing path, unreachable cluster); Changes is then empty.
	Error string `json:"error,omitempty"`
	// Warnings are notes that do not stop the diff (e.g. depth limit reached).
	Warnings []string `json:"warnings,omitempty"`
	// Classes tallies the changed objects by Class; nil when the changes
	// were not classified (no base tree, or BaseError).
	Classes *ClassCounts `json:"classes,omitempty"`
	// BaseError is set when the build or diff of the base tree failed, so
	// the changes could not be told apart from drift; they are shown
	// unclassified.
	BaseError string `json:"baseError,omitempty"`
	// Risks flag the changes a reviewer should look at first (see Risk);
	// added to fluxdiff.report/v1 without changing any other field.
	Risks []Risk `json:"risks,omitempty"`
	// HelmReleases holds the HelmReleases of the build that were rendered
	// and diffed (see HelmReleaseReport); absent when there are none.
	HelmReleases []HelmReleaseReport `json:"helmReleases,omitempty"`
}

// Change is one object's diff.
type Change struct {
	Action     Action `json:"action"`
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Diff is a unified diff of the live object (---) to the merged one
	// (+++), as YAML without server-managed noise; secret values masked.
	Diff string `json:"diff,omitempty"`
	// NotValidated is true when the object could not be dry-run because its
	// Namespace or CRD is created by the same build; it is shown as built.
	NotValidated bool `json:"notValidated,omitempty"`
	// Reason explains skipped, failed and not-validated entries, deletions
	// that wait for a successful apply, and re-creations.
	Reason string `json:"reason,omitempty"`
	// Class says whether the pull request causes the change or the cluster
	// already differs from the base tree (see classify.go); empty for
	// unchanged and skipped objects and when no base tree was diffed.
	Class Class `json:"class,omitempty"`
	// Fields lists the changed fields of a configured object with their
	// class, when both dry-runs could be compared field by field.
	Fields []FieldChange `json:"fields,omitempty"`
	// PRDiff and DriftDiff split Diff for an object of class pr+drift: the
	// fields the pull request changes (classes pr and pr+drift), and those
	// that only drifted. Both are empty for other objects.
	PRDiff    string `json:"prDiff,omitempty"`
	DriftDiff string `json:"driftDiff,omitempty"`
}

// Counts tallies changes by action.
type Counts struct {
	Created    int `json:"created"`
	Configured int `json:"configured"`
	Deleted    int `json:"deleted"`
	Unchanged  int `json:"unchanged"`
	Skipped    int `json:"skipped"`
	Failed     int `json:"failed"`
}

// ID is "Kind/namespace/name" (or "Kind/name" for cluster-scoped objects).
func (c Change) ID() string {
	if c.Namespace == "" {
		return c.Kind + "/" + c.Name
	}
	return c.Kind + "/" + c.Namespace + "/" + c.Name
}

// HasChanges reports whether applying would change anything, or whether an
// error prevents knowing.
func (r *Report) HasChanges() bool {
	for _, k := range r.Kustomizations {
		if k.Counts.Created+k.Counts.Configured+k.Counts.Deleted > 0 || helmChanges(k) {
			return true
		}
	}
	return false
}

// HasErrors reports whether the report as a whole, any Kustomization or any
// object failed.
func (r *Report) HasErrors() bool {
	if r.Error != "" {
		return true
	}
	for _, k := range r.Kustomizations {
		if k.Error != "" || k.Counts.Failed > 0 || helmErrors(k) {
			return true
		}
	}
	return false
}

func (c *Counts) add(a Action) {
	switch a {
	case ActionCreated:
		c.Created++
	case ActionConfigured:
		c.Configured++
	case ActionDeleted:
		c.Deleted++
	case ActionUnchanged:
		c.Unchanged++
	case ActionSkipped:
		c.Skipped++
	case ActionFailed:
		c.Failed++
	}
}

// Of returns the count for one action.
func (c Counts) Of(a Action) int {
	switch a {
	case ActionCreated:
		return c.Created
	case ActionConfigured:
		return c.Configured
	case ActionDeleted:
		return c.Deleted
	case ActionUnchanged:
		return c.Unchanged
	case ActionSkipped:
		return c.Skipped
	case ActionFailed:
		return c.Failed
	}
	return 0
}
