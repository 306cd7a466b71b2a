package main

import (
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/spf13/pflag"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
)

// addTenancyFlags adds --impersonate and --default-service-account, the
// CLI's diff.impersonate and diff.defaultServiceAccount (README,
// Configuration reference; server.Tenancy).
func addTenancyFlags(f *pflag.FlagSet, o *diffOptions) {
	f.BoolVar(&o.impersonate, "impersonate", false,
		"dry-run the Kustomization as the service account Flux applies it as (spec.serviceAccountName, else --default-service-account), so RBAC refusals show; needs the impersonate permission")
	f.StringVar(&o.defaultSA, "default-service-account", "",
		"kustomize-controller's --default-service-account, if it runs with one: the account of Kustomizations without spec.serviceAccountName")
}

// addImpersonationWarning adds, without --impersonate, a warning to the
// report's row of ks when kustomize-controller applies it as a service
// account: the dry-run ran as the kubeconfig's user, so what RBAC would
// refuse Flux is not shown (the server's warning, for diff.impersonate).
func addImpersonationWarning(rep *diff.Report, ks *kustomizev1.Kustomization, o *diffOptions) {
	if o.impersonate {
		return
	}
	user := kube.ImpersonatedUser(ks, o.defaultSA)
	if user == "" {
		return
	}
	for i, r := range rep.Kustomizations {
		if r.Namespace == ks.Namespace && r.Name == ks.Name && r.Parent == "" {
			rep.Kustomizations[i].Warnings = append(rep.Kustomizations[i].Warnings, "impersonation is off (--impersonate): Flux applies this Kustomization as "+
				user+", but the dry-run ran as the kubeconfig's user, so objects that RBAC would refuse to that account are not shown as refused")
		}
	}
}
