package main

import (
	"context"
	"fmt"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/scheme"
)

// newDiffer returns the engine for ks, with c (reaching cl) as the
// controller's own client (see diff/target.go). The dry-run goes:
//   - when spec.kubeConfig names another cluster, there, with a client
//     built from the kubeconfig Secret that c reads; kubeconfigs that run a
//     command or skip TLS verification are refused, as by
//     kustomize-controller without its --insecure-kubeconfig-* flags;
//   - with --impersonate, as the service account kustomize-controller
//     impersonates for ks (kube.ImpersonatedUser), on that cluster too;
//   - otherwise through c.
//
// HelmReleases are rendered only when the dry-run goes to cl.
func newDiffer(ctx context.Context, cl *kube.Cluster, c client.Client, ks *kustomizev1.Kustomization, o *diffOptions) (*diff.Differ, error) {
	d := &diff.Differ{Client: c, Concurrency: o.concurrency}
	target := kube.RemoteTarget(ks)
	user := ""
	if o.impersonate {
		user = kube.ImpersonatedUser(ks, o.defaultSA)
	}
	if target == "" && user == "" {
		d.Helm = helmDiffer(cl, c, o)
		return d, nil
	}
	cfg := rest.CopyConfig(cl.Config)
	if target != "" {
		remote, err := kube.RemoteConfig(ctx, c, ks, kube.KubeConfigOptions{})
		if err != nil {
			return nil, fmt.Errorf("remote target %s: %w", target, err)
		}
		cfg = remote
	}
	if user != "" {
		cfg.Impersonate = kube.Impersonation(user)
	}
	apply, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return nil, fmt.Errorf("dry-run client for %s: %w", describeApply(target, user), err)
	}
	d.Client, d.Management, d.Target = apply, c, target
	if target == "" {
		d.Helm = helmDiffer(cl, apply, o)
	}
	return d, nil
}

// describeApply names where and as whom the dry-run goes, for errors.
func describeApply(target, user string) string {
	s := "the current cluster"
	if target != "" {
		s = "remote target " + target
	}
	if user != "" {
		s += " as " + user
	}
	return s
}
