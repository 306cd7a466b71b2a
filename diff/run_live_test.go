package diff

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

// requestLog counts the API requests a client sends, by method and path
// without the namespace part (e.g. "GET configmaps/name", "GET configmaps").
type requestLog struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *requestLog) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(req *http.Request) (*http.Response, error) {
		parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
		key := req.Method + " " + parts[len(parts)-1] // a collection in a namespace
		if (len(parts) < 3 || parts[len(parts)-3] != "namespaces") && len(parts) > 1 {
			key = req.Method + " " + parts[len(parts)-2] + "/name" // one object by name
		}
		l.mu.Lock()
		l.n[key]++
		l.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countingClient is a client on cfg whose requests are counted in log.
func countingClient(t *testing.T, cfg *rest.Config, env *kubetest.Namespace) (client.Client, *requestLog) {
	t.Helper()
	log := &requestLog{n: map[string]int{}}
	cfg = rest.CopyConfig(cfg)
	cfg.WrapTransport = log.wrap
	c, err := client.New(cfg, client.Options{Scheme: env.Scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c, log
}

// liveListTree is a build of 8 ConfigMaps (4 live, 2 of those changed, 4
// new), 5 Secrets (3 live) and one Service: ConfigMaps are read with a
// LIST, Secrets never are, and the lone Service is read on its own.
func liveListTree(t *testing.T, ns *kubetest.Namespace) string {
	t.Helper()
	var src, live strings.Builder
	for i := range 8 {
		fmt.Fprintf(&src, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: __NS__}\ndata: {v: new}\n---\n", i)
		if i < 4 {
			v := map[bool]string{true: "old", false: "new"}[i < 2]
			fmt.Fprintf(&live, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-%d, namespace: __NS__}\ndata: {v: %s}\n---\n", i, v)
		}
	}
	for i := range 5 {
		fmt.Fprintf(&src, "apiVersion: v1\nkind: Secret\nmetadata: {name: s-%d, namespace: __NS__}\nstringData: {v: new}\n---\n", i)
		if i < 3 {
			fmt.Fprintf(&live, "apiVersion: v1\nkind: Secret\nmetadata: {name: s-%d, namespace: __NS__}\nstringData: {v: old}\n---\n", i)
		}
	}
	src.WriteString("apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: __NS__}\nspec: {ports: [{port: 80}]}\n")
	applyLive(t, ns.Client, ns.Name, "app", live.String())
	return writeTree(t, ns.Name, map[string]string{"app/objects.yaml": src.String()})
}

// TestBulkLiveReadsGiveTheSameReport: kustomize-controller reads each
// object with a GET before its dry-run apply (fluxcd/pkg/ssa
// ResourceManager.Diff); reading a build's ConfigMaps with one LIST must
// give the same report, GET by GET where the LIST cannot answer.
func TestBulkLiveReadsGiveTheSameReport(t *testing.T) {
	ns := kubetest.Setup(t)
	root := liveListTree(t, ns)
	ks := newKS(ns.Name, "app", "./app")
	diffWith := func(c client.Client, listMin int) KustomizationReport {
		t.Helper()
		rep, err := (&Differ{Client: c, Cluster: "test", LiveListMin: listMin}).Diff(context.Background(), Request{Root: root, Kustomization: ks})
		if err != nil || len(rep.Kustomizations) != 1 {
			t.Fatalf("diff: %v, %d reports", err, len(rep.Kustomizations))
		}
		return rep.Kustomizations[0]
	}
	one, oneLog := countingClient(t, ns.Config, ns)
	want := diffWith(one, -1)
	if n := oneLog.n["GET configmaps/name"]; n != 8 {
		t.Fatalf("one by one: %d GETs of ConfigMaps, want 8", n)
	}
	bulk, bulkLog := countingClient(t, ns.Config, ns)
	got := diffWith(bulk, 0)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("report with bulk reads differs (-one by one +bulk):\n%s", d)
	}
	wantCounts := map[string]int{"GET configmaps": 1, "GET configmaps/name": 0, "GET secrets": 0, "GET secrets/name": 5, "GET services/name": 1}
	for k, v := range wantCounts {
		if bulkLog.n[k] != v {
			t.Errorf("bulk: %d × %q, want %d (all: %v)", bulkLog.n[k], k, v, bulkLog.n)
		}
	}
	if c := got.Counts; c.Created != 7 || c.Configured != 5 || c.Unchanged != 2 {
		t.Errorf("counts %+v; want 7 created (4 ConfigMaps, 2 Secrets, the Service), 5 configured (2 ConfigMaps, 3 Secrets), 2 unchanged", c)
	}

	t.Run("an identity that may not list reads one by one and gets the same report", func(t *testing.T) {
		cfg := noListIdentity(t, ns)
		c, log := countingClient(t, cfg, ns)
		if d := cmp.Diff(want, diffWith(c, 0)); d != "" {
			t.Errorf("report differs (-one by one +forbidden list):\n%s", d)
		}
		if n := log.n["GET configmaps/name"]; n != 8 {
			t.Errorf("%d GETs of ConfigMaps after a forbidden LIST, want 8", n)
		}
	})
	t.Run("a namespace with more objects than one page reads the rest one by one", func(t *testing.T) {
		var other strings.Builder
		for i := range 80 { // sorted before cm-*: the page of 2×8+50 holds none of ours past it
			fmt.Fprintf(&other, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a-other-%02d, namespace: __NS__}\n---\n", i)
		}
		applyLive(t, ns.Client, ns.Name, "", other.String())
		c, log := countingClient(t, ns.Config, ns)
		if d := cmp.Diff(want, diffWith(c, 0)); d != "" {
			t.Errorf("report differs (-one by one +paged):\n%s", d)
		}
		if log.n["GET configmaps"] != 1 || log.n["GET configmaps/name"] != 8 {
			t.Errorf("want one LIST and 8 GETs of ConfigMaps, got %v", log.n)
		}
	})
}

// noListIdentity is a service account that may get, create and patch in
// ns.Name but not list, as fluxdiff's ClusterRole is for custom resources.
func noListIdentity(t *testing.T, ns *kubetest.Namespace) *rest.Config {
	t.Helper()
	ctx := context.Background()
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "nolist", Namespace: ns.Name},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"get", "create", "patch"}}}}
	bind := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "nolist", Namespace: ns.Name},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "nolist"},
		Subjects: []rbacv1.Subject{{Kind: "User", Name: "nolist"}}}
	for _, o := range []client.Object{role, bind} {
		if err := ns.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cfg := rest.CopyConfig(ns.Config)
	cfg.Impersonate = rest.ImpersonationConfig{UserName: "nolist"}
	return cfg
}
