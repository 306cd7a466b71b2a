// Package diff is fluxdiff's engine. It builds a Flux Kustomization from a
// source tree with kustomize-controller's own semantics (in memory, never
// writing to the tree), applies post-build variable substitution, diffs the
// result against a cluster with a server-side apply dry-run, works out
// deletions from the inventory and masks every secret value. It returns a
// Report, which is data; renderings to text, Markdown and JSON live beside it.
//
// The package does not log, read configuration or talk to GitHub or Slack:
// callers hand it a source folder and a controller-runtime client.
package diff
