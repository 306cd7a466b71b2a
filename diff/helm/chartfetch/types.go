// Package chartfetch fetches Helm charts the way source-controller does
// (HelmRepository of type default or oci, OCIRepository), for rendering a
// HelmRelease in a diff. It resolves semver ranges, caches charts by digest
// and refuses fetches that would turn fluxdiff into a proxy into the
// cluster's network (see Options).
package chartfetch

import "context"

// Source is where a chart comes from, as a HelmRepository or OCIRepository
// in the cluster (or in the pull request) describes it.
type Source struct {
	// URL is spec.url: "https://host/path" for a default HelmRepository,
	// "oci://host/path" for an OCI HelmRepository or OCIRepository.
	URL string
	// Type is "default" or "oci" (HelmRepository spec.type; "oci" for an
	// OCIRepository).
	Type string
	// Username and Password come from the repository's secretRef; they are
	// used only for the fetch and never appear in an error or a log.
	Username, Password string
	// CA, Cert and Key are PEM bytes from the certSecretRef, when set.
	CA, Cert, Key []byte
	// Insecure is spec.insecure: plain HTTP to an OCI registry.
	Insecure bool
	// Live is true when URL is the URL of a HelmRepository or OCIRepository
	// that already exists in the live cluster (not added or changed by the
	// pull request); such a URL is fetched even if its host is not on the
	// allowed list, and so are the hosts its index's absolute chart URLs,
	// its redirects and its OCI token service name. Addresses are checked
	// either way: loopback, link-local and private ones stay refused unless
	// allowed by Options.
	Live bool
}

// Request asks for one chart.
type Request struct {
	Source Source
	// Chart is the chart name in the repository (spec.chart.spec.chart);
	// empty for an OCIRepository, whose URL names the artifact.
	Chart string
	// Version is a semver version or range (spec.chart.spec.version or the
	// OCIRepository's ref.semver/tag); empty means the latest, as
	// source-controller resolves "*".
	Version string
	// Tag, Digest and SemverFilter are an OCIRepository's spec.ref.tag,
	// spec.ref.digest ("sha256:<hex>") and spec.ref.semverFilter (a regular
	// expression on tags); unused for a HelmRepository. As source-controller
	// chooses (OCIRepositoryReconciler.getArtifactRef): Digest, else Version
	// (spec.ref.semver), else Tag, else "latest".
	Tag, Digest, SemverFilter string
}

// Chart is a fetched chart archive.
type Chart struct {
	// Name and Version as resolved (Version is never a range).
	Name, Version string
	// Digest is "sha256:<hex>" of Archive; the cache key.
	Digest string
	// Archive is the chart's .tgz bytes. It is shared with the Fetcher's
	// cache: read it, never modify it.
	Archive []byte
}

// Getter fetches charts; *Fetcher implements it. Consumers declare it so a
// test can hand in a chart without a repository.
type Getter interface {
	Fetch(ctx context.Context, req Request) (*Chart, error)
}
