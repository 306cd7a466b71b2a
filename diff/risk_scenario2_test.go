package diff

import (
	"testing"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// Fixtures of the immutable-field scenarios.

func job(image string) string {
	return "apiVersion: batch/v1\nkind: Job\nmetadata: {name: once, namespace: __NS__}\n" +
		"spec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: main, image: \"" + image + "\", command: [\"true\"]}]\n"
}

func service(ip string) string {
	return "apiVersion: v1\nkind: Service\nmetadata: {name: api, namespace: __NS__}\n" +
		"spec: {clusterIP: " + ip + ", ports: [{port: 80}], selector: {app: api}}\n"
}

const roles = `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: view-a, namespace: __NS__}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: view-b, namespace: __NS__}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [list]}]
---
`

func roleBinding(role string) string {
	return "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: readers, namespace: __NS__}\n" +
		"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: " + role + "}\n" +
		"subjects: [{kind: ServiceAccount, name: default, namespace: __NS__}]\n"
}

func claim(size string) string {
	return "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: __NS__}\n" +
		"spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: " + size + "}}}\n"
}

func statefulSet(size string) string {
	return "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db, namespace: __NS__}\nspec:\n  serviceName: db\n" +
		"  selector: {matchLabels: {app: db}}\n  template:\n    metadata: {labels: {app: db}}\n" +
		"    spec: {containers: [{name: db, image: \"postgres:17\"}]}\n" +
		"  volumeClaimTemplates: [{metadata: {name: data}, spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: " + size + "}}}}]\n"
}

// TestRiskReconcileDisabledObjectChanged: ssa skips an object marked
// kustomize.toolkit.fluxcd.io/reconcile: disabled in the manifest or in
// the cluster (kustomize-controller's ExclusionSelector), so a change the
// pull request makes to it never lands: flagged. An object so marked that
// the pull request leaves as it is, is not.
func TestRiskReconcileDisabledObjectChanged(t *testing.T) {
	ns := kubetest.Setup(t)
	live := `
apiVersion: v1
kind: ConfigMap
metadata: {name: frozen, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}
data: {level: old}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: still, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}
data: {level: same}
`
	applyLive(t, ns.Client, ns.Name, "app", live)
	root := writeTree(t, ns.Name, map[string]string{"app/cms.yaml": `
apiVersion: v1
kind: ConfigMap
metadata: {name: frozen, namespace: __NS__}
data: {level: new}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: still, namespace: __NS__}
data: {level: same}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: never, namespace: __NS__, annotations: {kustomize.toolkit.fluxcd.io/reconcile: disabled}}
data: {level: new}
`})
	k := diffKS(t, ns, root, newKS(ns.Name, "app", "./app"))
	wantRows(t, k,
		row{ActionSkipped, "ConfigMap", ns.Name, "frozen"},
		row{ActionSkipped, "ConfigMap", ns.Name, "still"},
		row{ActionSkipped, "ConfigMap", ns.Name, "never"},
	)
	wantFlags(t, k,
		flagRow{Kind: RiskIgnored, ObjectKind: "ConfigMap", Name: "frozen"},
		flagRow{Kind: RiskIgnored, ObjectKind: "ConfigMap", Name: "never"},
	)
	wantMessage(t, flagOn(t, k, RiskIgnored, "frozen"), "Flux will ignore this change", "disabled in the cluster")
	wantMessage(t, flagOn(t, k, RiskIgnored, "never"), "Flux will not create it")
}

// TestRiskRBACWidened: a ClusterRole widened to "*", a new Role reading
// Secrets and a new ClusterRoleBinding to cluster-admin are flagged; a
// ClusterRole whose wide rule was already live, and a narrow new Role, are
// not.
func TestRiskRBACWidened(t *testing.T) {
	ns := kubetest.Setup(t)
	n := ns.Name
	base := `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: __NS__-ops}
rules: [{apiGroups: [""], resources: [pods], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: __NS__-admin}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
`
	ks := newKS(n, "app", "./app")
	reconcile(t, ns, writeTree(t, n, map[string]string{"app/rbac.yaml": base}), ks)
	root := writeTree(t, n, map[string]string{"app/rbac.yaml": `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: __NS__-ops}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: __NS__-admin, labels: {team: platform}}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: __NS__}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get, list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: cm-reader, namespace: __NS__}
rules: [{apiGroups: [""], resources: [configmaps], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: __NS__-root}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}
subjects: [{kind: ServiceAccount, name: deployer, namespace: __NS__}]
`})
	k := diffKS(t, ns, root, ks)
	all := `{"apiGroups":["*"],"resources":["*"],"verbs":["*"]}`
	wantFlags(t, k,
		flagRow{Kind: RiskRBAC, ObjectKind: "ClusterRole", Name: n + "-ops", Field: "rules[0]", New: all},
		flagRow{Kind: RiskRBAC, ObjectKind: "Role", Name: "secret-reader", Field: "rules[0]", New: `{"apiGroups":[""],"resources":["secrets"],"verbs":["get","list"]}`},
		flagRow{Kind: RiskRBAC, ObjectKind: "ClusterRoleBinding", Name: n + "-root", Field: "subjects", New: "ServiceAccount " + n + "/deployer"},
	)
	wantMessage(t, flagOn(t, k, RiskRBAC, n+"-ops"), "widened ClusterRole grants every verb on every resource")
	wantMessage(t, flagOn(t, k, RiskRBAC, "secret-reader"), "new Role grants get on Secrets; list on Secrets")
	wantMessage(t, flagOn(t, k, RiskRBAC, n+"-root"), "binds cluster-admin on the whole cluster to ServiceAccount "+n+"/deployer")
}

// TestRiskImageBumpListed: an image bump is listed old → new per container
// (not counted as a risk), from the dry-run result against the live
// object; a new Deployment's images are not "changes".
func TestRiskImageBumpListed(t *testing.T) {
	ns := kubetest.Setup(t)
	deploy := func(name, image, sidecar string) string {
		return "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: " + name + ", namespace: __NS__}\n" +
			"spec:\n  selector: {matchLabels: {app: " + name + "}}\n  template:\n    metadata: {labels: {app: " + name + "}}\n" +
			"    spec:\n      initContainers: [{name: init, image: \"busybox:1.36\"}]\n" +
			"      containers: [{name: web, image: \"" + image + "\"}, {name: proxy, image: \"" + sidecar + "\"}]\n"
	}
	ks := newKS(ns.Name, "app", "./app")
	reconcile(t, ns, writeTree(t, ns.Name, map[string]string{"app/web.yaml": deploy("web", "nginx:1.27", "envoy:1.30")}), ks)
	root := writeTree(t, ns.Name, map[string]string{
		"app/web.yaml": deploy("web", "nginx:1.28", "envoy:1.30"),
		"app/new.yaml": deploy("fresh", "nginx:1.28", "envoy:1.30"),
	})
	k := diffKS(t, ns, root, ks)
	wantFlags(t, k, flagRow{Kind: RiskImage, ObjectKind: "Deployment", Name: "web",
		Field: "spec.template.spec.containers[web].image", Old: "nginx:1.27", New: "nginx:1.28"})
	f := flagOn(t, k, RiskImage, "web")
	wantMessage(t, f, "image nginx:1.27 → nginx:1.28")
	if f.Warning() || f.File != "app/web.yaml" {
		t.Errorf("image flag: warning %v at %q, want a listing at app/web.yaml", f.Warning(), f.File)
	}
	if b := (&Report{Kustomizations: []KustomizationReport{k}}).BlastRadius(); b.RiskFlags != 0 || b.Images != 1 {
		t.Errorf("blast radius = %+v, want 0 risk flags and 1 image change", b)
	}
}
