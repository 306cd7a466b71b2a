package kubetest_test

import (
	"context"
	"os"
	"testing"
	"time"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/kube/kubetest"
)

func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }

func TestFluxObjectsCanBeCreated(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()

	repo := &sourcev1.GitRepository{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns.Name},
		Spec: sourcev1.GitRepositorySpec{
			URL:       "https://github.com/stefanprodan/podinfo",
			Interval:  metav1.Duration{Duration: time.Minute},
			Reference: &sourcev1.GitRepositoryRef{Branch: "master"},
		},
	}
	if err := ns.Client.Create(ctx, repo); err != nil {
		t.Fatalf("create GitRepository: %v", err)
	}
	ks := &kustomizev1.Kustomization{
		ObjectMeta: metav1.ObjectMeta{Name: "podinfo", Namespace: ns.Name},
		Spec: kustomizev1.KustomizationSpec{
			Interval:  metav1.Duration{Duration: 10 * time.Minute},
			Path:      "./kustomize",
			Prune:     true,
			SourceRef: kustomizev1.CrossNamespaceSourceReference{Kind: sourcev1.GitRepositoryKind, Name: "podinfo"},
		},
	}
	if err := ns.Client.Create(ctx, ks); err != nil {
		t.Fatalf("create Kustomization: %v", err)
	}
	var got kustomizev1.Kustomization
	if err := ns.Client.Get(ctx, client.ObjectKeyFromObject(ks), &got); err != nil {
		t.Fatal(err)
	}
	if got.Spec.Path != "./kustomize" || got.Spec.SourceRef.Name != "podinfo" || !got.Spec.Prune {
		t.Errorf("Kustomization spec did not round-trip: %+v", got.Spec)
	}
}

func TestServerSideApplyDryRunDefaultsWithoutPersisting(t *testing.T) {
	ns := kubetest.Setup(t)
	ctx := context.Background()
	labels := map[string]string{"app": "web"}
	deploy := &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: ns.Name},
		Spec: appsv1.DeploymentSpec{
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx:1.27"}}},
			},
		},
	}
	if err := ns.Client.Patch(ctx, deploy, client.Apply, client.DryRunAll, client.FieldOwner("kustomize-controller"), client.ForceOwnership); err != nil {
		t.Fatalf("dry-run apply: %v", err)
	}
	if deploy.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType {
		t.Errorf("strategy.type = %q, want the server default RollingUpdate", deploy.Spec.Strategy.Type)
	}
	if deploy.Spec.Replicas == nil || *deploy.Spec.Replicas != 1 {
		t.Errorf("replicas = %v, want the server default 1", deploy.Spec.Replicas)
	}
	if got := deploy.Spec.Template.Spec.Containers[0].TerminationMessagePath; got != "/dev/termination-log" {
		t.Errorf("terminationMessagePath = %q, want the server default", got)
	}
	err := ns.Client.Get(ctx, client.ObjectKeyFromObject(deploy), &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("live Deployment after a dry-run: want NotFound, got %v", err)
	}
}
