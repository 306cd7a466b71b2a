// Package kube owns fluxdiff's view of the clusters: one client per
// kubeconfig context, informers over Flux objects, and the index from a Git
// repository and branch to the Kustomizations that Flux builds from it. It
// renders nothing.
package kube
