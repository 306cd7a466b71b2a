package helm

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/fluxdiff/fluxdiff/diff/helm/chartfetch"
)

// repositorySource describes a HelmRepository or OCIRepository for the
// Getter. Live is set only when the cluster has the object with the same
// URL and type, so that a URL the pull request adds or changes is subject
// to the fetcher's allowed hosts. Credentials come from the secretRef and
// certSecretRef Secrets as they are in the cluster (never from the pull
// request) and go into the Source only.
func (l *chartLoader) repositorySource(ctx context.Context, obj, live *unstructured.Unstructured) (chartfetch.Source, error) {
	url, _, _ := unstructured.NestedString(obj.Object, "spec", "url")
	typ, _, _ := unstructured.NestedString(obj.Object, "spec", "type")
	if typ == "" {
		typ = "default"
	}
	insecure, _, _ := unstructured.NestedBool(obj.Object, "spec", "insecure")
	src := chartfetch.Source{URL: url, Type: typ, Insecure: insecure}
	if live != nil {
		liveURL, _, _ := unstructured.NestedString(live.Object, "spec", "url")
		liveType, _, _ := unstructured.NestedString(live.Object, "spec", "type")
		src.Live = liveURL == url && defaultString(liveType, "default") == typ
	}
	if err := l.credentials(ctx, obj, &src); err != nil {
		return chartfetch.Source{}, err
	}
	return src, nil
}

// credentials reads spec.secretRef (username, password) and
// spec.certSecretRef (ca.crt, tls.crt, tls.key) from the cluster, as
// source-controller reads them for a HelmRepository.
func (l *chartLoader) credentials(ctx context.Context, obj *unstructured.Unstructured, src *chartfetch.Source) error {
	secrets := objectSource{live: l.live}
	ns := obj.GetNamespace()
	if name, _, _ := unstructured.NestedString(obj.Object, "spec", "secretRef", "name"); name != "" {
		data, found, err := secrets.liveData(ctx, "Secret", ns, name)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%s %s/%s: secretRef Secret %s not found in the cluster", obj.GetKind(), ns, obj.GetName(), name)
		}
		src.Username, src.Password = data["username"], data["password"]
		if c, ok := data["ca.crt"]; ok {
			src.CA = []byte(c)
		}
	}
	if name, _, _ := unstructured.NestedString(obj.Object, "spec", "certSecretRef", "name"); name != "" {
		data, found, err := secrets.liveData(ctx, "Secret", ns, name)
		if err != nil {
			return err
		}
		if !found {
			return fmt.Errorf("%s %s/%s: certSecretRef Secret %s not found in the cluster", obj.GetKind(), ns, obj.GetName(), name)
		}
		src.CA, src.Cert, src.Key = []byte(data["ca.crt"]), []byte(data["tls.crt"]), []byte(data["tls.key"])
	}
	return nil
}

// isNoMatch reports whether err says the cluster does not serve a kind.
func isNoMatch(err error) bool { return meta.IsNoMatchError(err) }

// remarshal converts v to out through JSON.
func remarshal(v, out any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, out)
}
