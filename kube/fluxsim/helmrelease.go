package fluxsim

import (
	"context"
	"fmt"
	"time"

	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	rcommon "helm.sh/helm/v4/pkg/release/common"
	rv1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/fluxdiff/fluxdiff/diff/helm"
)

// InstallHelmRelease leaves the cluster as helm-controller leaves it after
// installing the HelmRelease namespace/name (which must exist in the
// cluster) with chart ch: every rendered object server-side applied with
// helm-controller's field manager, Helm's ownership metadata and the
// origin labels, and revision 1 of the release stored by Helm's own Secret
// driver (sh.helm.release.v1.NAME.v1, status deployed, applied with
// server-side apply). Hooks and tests are not run.
func InstallHelmRelease(ctx context.Context, c client.Client, cfg *rest.Config, namespace, name string, ch *chartv2.Chart) error {
	hr := &unstructured.Unstructured{}
	hr.SetAPIVersion(helm.Group + "/v2")
	hr.SetKind("HelmRelease")
	if err := c.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, hr); err != nil {
		return fmt.Errorf("install HelmRelease %s/%s: %w", namespace, name, err)
	}
	caps, err := helm.Discover(cfg)
	if err != nil {
		return err
	}
	rd, err := helm.Render(ctx, c, hr, ch, caps)
	if err != nil {
		return err
	}
	for _, o := range rd.Objects {
		if err := c.Patch(ctx, o, client.Apply, client.FieldOwner(helm.FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("install HelmRelease %s/%s: apply %s %s/%s: %w", namespace, name, o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	now := time.Now()
	rel := &rv1.Release{
		Name: rd.ReleaseName, Namespace: rd.Namespace, Chart: ch, Config: rd.Values, Manifest: rd.Manifest, Version: 1,
		Info:        &rv1.Info{FirstDeployed: now, LastDeployed: now, Status: rcommon.StatusDeployed, Description: "Install complete"},
		ApplyMethod: "ssa",
	}
	if err := storage.Init(driver.NewSecrets(cs.CoreV1().Secrets(rd.StorageNamespace))).Create(rel); err != nil {
		return fmt.Errorf("install HelmRelease %s/%s: store release: %w", namespace, name, err)
	}
	return nil
}
