package enginecanary

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/chat"
	"github.com/fluxdiff/fluxdiff/chat/chattest"
	"github.com/fluxdiff/fluxdiff/diff"
	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

const (
	liveCanary = "CANARY-slack-live-31d7"
	srcCanary  = "CANARY-slack-source-8e02"
	varCanary  = "CANARY-slack-var-c4a9"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestNoSecretReachesSlack: a live Secret, the same Secret changed in the
// source, a new Secret, and a ConfigMap that substitutes a value from a
// Secret (postBuild.substituteFrom, as kustomize-controller does) are
// diffed by the engine; the report goes to Slack as a message too long
// for one (so the full report is uploaded as a file too), a thread reply
// and a response_url answer. No request body holds a canary, in plain or
// base64 form.
func TestNoSecretReachesSlack(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	live := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "creds", Namespace: ns.Name,
			Labels: map[string]string{"kustomize.toolkit.fluxcd.io/name": "app", "kustomize.toolkit.fluxcd.io/namespace": ns.Name}},
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		Data:     map[string][]byte{"token": []byte(liveCanary), "dropped": []byte(liveCanary)},
	}
	if err := ns.Client.Patch(ctx, live, client.Apply, client.FieldOwner(diff.FieldManager), client.ForceOwnership); err != nil {
		t.Fatal(err)
	}
	vars := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "vars", Namespace: ns.Name}, Data: map[string][]byte{"password": []byte(varCanary)}}
	if err := ns.Client.Create(ctx, vars); err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "app"), 0o755); err != nil {
		t.Fatal(err)
	}
	manifest := "apiVersion: v1\nkind: Secret\nmetadata: {name: creds, namespace: " + ns.Name + "}\n" +
		"data: {token: " + b64(srcCanary) + ", added: " + b64(srcCanary) + "}\n---\n" +
		"apiVersion: v1\nkind: Secret\nmetadata: {name: fresh, namespace: " + ns.Name + "}\nstringData: {key: " + srcCanary + "}\n---\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: uses-var, namespace: " + ns.Name + "}\ndata: {dsn: \"postgres://app:${password}@db\"}\n"
	if err := os.WriteFile(filepath.Join(root, "app", "all.yaml"), []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	ks := &kustomizev1.Kustomization{
		TypeMeta:   metav1.TypeMeta{APIVersion: kustomizev1.GroupVersion.String(), Kind: kustomizev1.KustomizationKind},
		ObjectMeta: metav1.ObjectMeta{Name: "app", Namespace: ns.Name},
		Spec: kustomizev1.KustomizationSpec{Path: "./app", Interval: metav1.Duration{Duration: time.Minute},
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "repo"},
			PostBuild: &kustomizev1.PostBuild{SubstituteFrom: []kustomizev1.SubstituteReference{{Kind: "Secret", Name: "vars"}}}},
	}
	rep, err := (&diff.Differ{Client: ns.Client, Cluster: "test"}).Diff(ctx, diff.Request{Root: root, Kustomization: ks})
	if err != nil {
		t.Fatal(err)
	}
	if k := rep.Kustomizations[0]; k.Error != "" || k.Counts.Configured+k.Counts.Created != 3 {
		t.Fatalf("the engine did not diff the three objects: %+v", k)
	}
	rep.PullRequest = &diff.PullRequestInfo{Repo: "acme/fleet", Number: 5, Title: "Rotate creds", URL: "https://github.com/acme/fleet/pull/5", HeadSHA: "abc"}

	sl := chattest.New(t, chattest.Options{})
	c, err := chat.NewClient(chat.ClientOptions{Token: sl.Token(), APIURL: sl.APIURL()})
	if err != nil {
		t.Fatal(err)
	}
	// Tight limits make the message incomplete, so the full text is uploaded.
	msg := chat.Message{Report: rep, ReportID: 1, Limits: chat.Limits{TotalText: 1200}}
	ref, err := c.PostReport(ctx, chat.MessageRef{Channel: "C0DEPLOYS"}, msg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Reply(ctx, ref, "posted"); err != nil {
		t.Fatal(err)
	}
	if err := c.Respond(ctx, sl.ResponseURL("C0DEPLOYS", ref.TS), chat.Response{Text: "x", Blocks: chat.Render(chat.Message{Report: rep}).Blocks}); err != nil {
		t.Fatal(err)
	}
	if files := sl.Files(); len(files) != 1 || !strings.Contains(string(files[0].Content), "Secret/"+ns.Name+"/creds configured") ||
		!strings.Contains(string(files[0].Content), "***") {
		t.Fatalf("the full report was not uploaded with the masked Secret: %+v", files)
	}
	var canaries []string
	for _, c := range []string{liveCanary, srcCanary, varCanary} {
		canaries = append(canaries, c, b64(c))
	}
	for _, r := range sl.Leaks(canaries...) {
		t.Errorf("%s %s sends a secret value to Slack", r.Method, r.Path)
	}
}
