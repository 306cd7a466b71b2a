package main

import (
	"context"
	"fmt"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/scheme"
)

// remoteTarget points d at the cluster ks applies to when spec.kubeConfig
// names another one: the dry-run goes there, with a client built from the
// kubeconfig Secret that c reads, while c keeps reading the Kustomization
// and its substituteFrom (see diff/target.go). Kubeconfigs that run a
// command or skip TLS verification are refused, as by kustomize-controller
// without its --insecure-kubeconfig-* flags.
func remoteTarget(ctx context.Context, c client.Client, ks *kustomizev1.Kustomization, d *diff.Differ) error {
	target := kube.RemoteTarget(ks)
	if target == "" {
		return nil
	}
	cfg, err := kube.RemoteConfig(ctx, c, ks, kube.KubeConfigOptions{})
	if err != nil {
		return fmt.Errorf("remote target %s: %w", target, err)
	}
	rc, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return fmt.Errorf("remote target %s: %w", target, err)
	}
	d.Client, d.Management, d.Target = rc, c, target
	return nil
}
