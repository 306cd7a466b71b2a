package diff

import (
	"context"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// sopsReason explains how SOPS-encrypted Secrets are compared.
const sopsReason = "SOPS-encrypted: compared by key set only (values cannot be decrypted here)"

// isSOPS reports whether obj is a Secret encrypted with SOPS (it carries the
// top-level "sops" metadata block).
func isSOPS(obj *unstructured.Unstructured) bool {
	_, ok := obj.Object["sops"]
	return ok && isSecret(obj)
}

// diffSOPS compares a SOPS-encrypted Secret with the live one by the set of
// keys in data and stringData. Ciphertexts change on every re-encryption,
// so values say nothing; kustomize-controller decrypts with keys fluxdiff
// does not hold.
func (d *Differ) diffSOPS(ctx context.Context, obj *unstructured.Unstructured) Change {
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	err := d.Client.Get(ctx, client.ObjectKeyFromObject(obj), live)
	if err != nil {
		live = nil
	}
	action := ActionConfigured
	switch {
	case live == nil:
		action = ActionCreated
	case slices.Equal(secretKeys(live), secretKeys(obj)):
		action = ActionUnchanged
	}
	c := changeFor(obj, action)
	c.Reason = sopsReason
	if action != ActionUnchanged {
		text, err := unifiedDiff(keyView(live), keyView(obj))
		if err == nil {
			c.Diff = text
		}
	}
	return c
}

// secretKeys is the sorted set of keys in data and stringData.
func secretKeys(obj *unstructured.Unstructured) []string {
	return slices.Sorted(maps.Keys(secretValues(obj)))
}

// keyView is a minimal Secret showing only its identity and masked keys.
func keyView(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	data := map[string]any{}
	for _, k := range secretKeys(obj) {
		data[k] = maskValue
	}
	v := &unstructured.Unstructured{Object: map[string]any{"data": data}}
	v.SetAPIVersion(obj.GetAPIVersion())
	v.SetKind(obj.GetKind())
	v.SetNamespace(obj.GetNamespace())
	v.SetName(obj.GetName())
	return v
}
