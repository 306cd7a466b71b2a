package helm

import (
	"errors"
	"fmt"

	ri "helm.sh/helm/v4/pkg/release"
	rv1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/kubernetes"
)

// currentRelease reads the release that an upgrade would start from, with
// Helm's own Secret storage driver (helm-controller's default storage):
// the latest deployed revision of name in namespace, else the latest
// revision; nil when there is none.
func currentRelease(cs kubernetes.Interface, namespace, name string) (*rv1.Release, error) {
	if cs == nil {
		return nil, nil
	}
	st := storage.Init(driver.NewSecrets(cs.CoreV1().Secrets(namespace)))
	rel, err := st.Deployed(name)
	if err != nil {
		rel, err = st.Last(name)
		if errors.Is(err, driver.ErrReleaseNotFound) {
			return nil, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("read release %s/%s: %w", namespace, name, err)
	}
	return asV1(rel)
}

func asV1(rel ri.Releaser) (*rv1.Release, error) {
	r, ok := rel.(*rv1.Release)
	if !ok {
		return nil, fmt.Errorf("release of an unsupported type %T", rel)
	}
	return r, nil
}
