package server

import (
	"context"
	"fmt"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/kube/scheme"
)

// Tenancy says how the pipeline treats Kustomizations that apply to another
// cluster (spec.kubeConfig) or as another identity (spec.serviceAccountName).
type Tenancy struct {
	// Impersonate dry-runs a Kustomization as the service account
	// kustomize-controller impersonates for it (kube.ImpersonatedUser), so
	// that RBAC refuses what it would refuse Flux. It needs the impersonate
	// permission on service accounts (deploy/identity-impersonate).
	Impersonate bool
	// DefaultServiceAccount is kustomize-controller's
	// --default-service-account: the account impersonated for a
	// Kustomization without spec.serviceAccountName; empty for none.
	DefaultServiceAccount string
	// KubeConfig decides which kubeconfigs of remote targets are accepted.
	KubeConfig kube.KubeConfigOptions
}

// diffClients are the clients of one engine run: apply for the dry-run and
// the live objects (the target cluster, as the impersonated identity),
// mgmt for the Kustomization objects and substituteFrom (the cluster that
// holds them, as fluxdiff itself); see diff/target.go.
type diffClients struct {
	apply, mgmt client.Client
	// target names a remote target; "" for the holding cluster.
	target string
	// helm renders HelmReleases; nil for a remote target, whose cluster
	// configuration the pipeline does not hold.
	helm diff.HelmDiffer
}

// targetGroup is the targets that share a target cluster and identity.
type targetGroup struct {
	target, user string
	ts           []target
}

// diffByTarget diffs the targets of cluster cl (reached with c) grouped by
// where and as whom kustomize-controller applies them, each group with its
// own clients. A group whose client cannot be built gives rows saying why.
func (p *Pipeline) diffByTarget(ctx context.Context, cl *kube.Cluster, c client.Client, roots trees, ts []target) []diff.KustomizationReport {
	var out []diff.KustomizationReport
	for _, g := range p.groupTargets(ts) {
		dc, err := p.groupClients(ctx, cl, c, g)
		if err != nil {
			rows := errorRows(cl.Name, g.ts, "not diffed: "+err.Error())
			for i := range rows {
				rows[i].Target = g.target
			}
			out = append(out, rows...)
			continue
		}
		if dc.target == "" {
			dc.helm = p.Helm.differ(cl, dc.apply)
		}
		for _, group := range byIgnore(g.ts) {
			rows := p.diffGroup(ctx, dc, cl.Name, roots, group)
			out = append(out, p.impersonationWarnings(rows, group)...)
		}
	}
	return out
}

// groupTargets groups ts by remote target (namespace and kubeConfig
// reference) and impersonated user, in order of first appearance. Without
// Tenancy.Impersonate the user is left out of the key.
func (p *Pipeline) groupTargets(ts []target) []*targetGroup {
	idx := map[string]*targetGroup{}
	var out []*targetGroup
	for _, t := range ts {
		ks := buildSpec(t)
		user := ""
		if p.Tenancy.Impersonate {
			user = kube.ImpersonatedUser(ks, p.Tenancy.DefaultServiceAccount)
		}
		key := remoteKey(ks) + "\x00" + user
		g, ok := idx[key]
		if !ok {
			g = &targetGroup{target: kube.RemoteTarget(ks), user: user}
			idx[key] = g
			out = append(out, g)
		}
		g.ts = append(g.ts, t)
	}
	return out
}

// remoteKey identifies the kubeConfig reference of ks: namespace, kind,
// name and key; "" without one.
func remoteKey(ks *kustomizev1.Kustomization) string {
	ref := ks.Spec.KubeConfig
	switch {
	case ref == nil:
		return ""
	case ref.SecretRef != nil:
		return ks.Namespace + "/Secret/" + ref.SecretRef.Name + "/" + ref.SecretRef.Key
	case ref.ConfigMapRef != nil:
		return ks.Namespace + "/ConfigMap/" + ref.ConfigMapRef.Name
	}
	return ks.Namespace + "/invalid"
}

// buildSpec is the Kustomization a target builds: the merge result's definition,
// else the cluster's.
func buildSpec(t target) *kustomizev1.Kustomization {
	if t.definition != nil {
		return t.definition
	}
	return t.entry.Kustomization
}

// groupClients builds the clients of g: the holding cluster's own client
// when g neither applies elsewhere nor impersonates; otherwise a new one for
// the remote target (from the kubeConfig Secret, read with c) and/or with
// the impersonated user.
func (p *Pipeline) groupClients(ctx context.Context, cl *kube.Cluster, c client.Client, g *targetGroup) (diffClients, error) {
	dc := diffClients{apply: c, mgmt: c, target: g.target}
	cfg := rest.CopyConfig(cl.Config)
	if g.target != "" {
		remote, err := kube.RemoteConfig(ctx, c, buildSpec(g.ts[0]), p.Tenancy.KubeConfig)
		if err != nil {
			return dc, fmt.Errorf("remote target %s: %w", g.target, err)
		}
		remote.QPS, remote.Burst = cfg.QPS, cfg.Burst
		cfg = remote
	} else if g.user == "" {
		return dc, nil
	}
	if g.user != "" {
		cfg.Impersonate = kube.Impersonation(g.user)
	}
	apply, err := client.New(cfg, client.Options{Scheme: scheme.New()})
	if err != nil {
		return dc, fmt.Errorf("client for %s: %w", describeGroup(cl.Name, g), err)
	}
	if g.target != "" {
		if err := probe(ctx, cfg); err != nil {
			return dc, fmt.Errorf("remote target %s is unreachable: %w", g.target, err)
		}
	}
	dc.apply = apply
	return dc, nil
}

// probe asks the API server of cfg for its version within 10 seconds, so
// that an unreachable target gives one reason instead of a timeout per
// object.
func probe(ctx context.Context, cfg *rest.Config) error {
	dcl, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return dcl.RESTClient().Get().AbsPath("/version").Do(pctx).Error()
}

// describeGroup names a group for errors: "cluster", "cluster → target",
// with " as USER" when it impersonates.
func describeGroup(cluster string, g *targetGroup) string {
	s := diff.KustomizationReport{Cluster: cluster, Target: g.target}.Where()
	if g.user != "" {
		s += " as " + g.user
	}
	return s
}

// impersonationWarnings adds, with Tenancy.Impersonate off, a warning to the
// top-level row of every Kustomization that kustomize-controller applies as a
// service account: this diff ran as fluxdiff, so what RBAC would refuse Flux
// is not shown.
func (p *Pipeline) impersonationWarnings(rows []diff.KustomizationReport, ts []target) []diff.KustomizationReport {
	if p.Tenancy.Impersonate {
		return rows
	}
	users := map[string]string{}
	for _, t := range ts {
		ks := buildSpec(t)
		if u := kube.ImpersonatedUser(ks, p.Tenancy.DefaultServiceAccount); u != "" {
			users[ks.Namespace+"/"+ks.Name] = u
		}
	}
	for i, r := range rows {
		if u, ok := users[r.Namespace+"/"+r.Name]; ok && r.Parent == "" {
			rows[i].Warnings = append(rows[i].Warnings, "impersonation is off (diff.impersonate): Flux applies this Kustomization as "+
				u+", but the dry-run ran as fluxdiff, so objects that RBAC would refuse to that account are not shown as refused")
		}
	}
	return rows
}
