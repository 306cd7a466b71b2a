package diff

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"github.com/fluxcd/pkg/ssa"
	ssautils "github.com/fluxcd/pkg/ssa/utils"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Reasons given for SOPS-encrypted objects.
const (
	sopsReason        = "SOPS-encrypted: compared by keys only (values cannot be decrypted here)"
	sopsMayChangeNote = "may change: SOPS-encrypted values are not compared (they cannot be decrypted here); the keys are unchanged"
)

// kustomize-controller follows two SOPS rules at two stages, and so does
// fluxdiff:
//
//   - Build (Decryptor.DecryptSources and DecryptResource, only with
//     spec.decryption.provider sops): secretGenerator files and envs are
//     decrypted before the build; then a resource with a non-empty sops.mac
//     is decrypted whole, and a Secret per data value that holds a SOPS
//     document. isSOPS follows this rule; such objects are compared by keys
//     (diffSOPS), as fluxdiff holds no decryption keys.
//   - Apply (IsEncryptedSecret): a v1 Secret that still has a sops field
//     fails the apply, "configuring decryption is required". checkDecryption
//     follows this rule.
//
// The decrypt: disabled annotation stops both.

// decryptionDisabled reports the kustomize.toolkit.fluxcd.io/decrypt:
// disabled annotation, read as the controller's IsDecryptionDisabled does
// (annotations only, any case).
func decryptionDisabled(obj *unstructured.Unstructured) bool {
	return strings.EqualFold(obj.GetAnnotations()[keyDecrypt], kustomizev1.DisabledValue)
}

// isSOPS reports whether kustomize-controller's build would decrypt obj
// (when decryption is configured): an object with a sops.mac field, or a
// Secret whose data hold SOPS documents (see encryptedEntries), unless
// decryption is disabled for it.
func isSOPS(obj *unstructured.Unstructured) bool {
	if decryptionDisabled(obj) {
		return false
	}
	mac, found, _ := unstructured.NestedString(obj.Object, "sops", "mac")
	return found && mac != "" || isSecret(obj) && encryptedEntries(obj)
}

// decrypts reports whether ks configures the decryption the controller
// supports (provider sops).
func decrypts(ks *kustomizev1.Kustomization) bool {
	return ks.Spec.Decryption != nil && ks.Spec.Decryption.Provider == "sops"
}

// checkDecryption fails like kustomize-controller's apply when a v1 Secret
// still has a sops field after the build's decryption: always without
// spec.decryption, and with it when the Secret has no sops.mac (the build
// does not decrypt it).
func checkDecryption(ks *kustomizev1.Kustomization, objs []*unstructured.Unstructured) error {
	for _, o := range objs {
		_, encrypted, _ := unstructured.NestedFieldNoCopy(o.Object, "sops")
		if !encrypted || o.GetKind() != "Secret" || o.GetAPIVersion() != "v1" || decryptionDisabled(o) {
			continue
		}
		if decrypts(ks) && isSOPS(o) {
			continue // decrypted by the build
		}
		return fmt.Errorf("%s is SOPS encrypted, configuring decryption is required for this secret to be reconciled", ssautils.FmtUnstructured(o))
	}
	return nil
}

// diffSOPS compares a SOPS-encrypted object with the live one by its keys:
// for a Secret the keys of data and stringData, for anything else the shape
// of the object with every value masked. Ciphertexts change on every
// re-encryption, so they say nothing; kustomize-controller decrypts with
// keys fluxdiff does not hold.
func (d *Differ) diffSOPS(ctx context.Context, obj *unstructured.Unstructured, opts ssa.DiffOptions) Change {
	if ssautils.AnyInMetadata(obj, opts.Exclusions) {
		c := changeFor(obj, ActionSkipped)
		c.Reason = skipReason(obj)
		return c
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(obj.GroupVersionKind())
	err := d.Client.Get(ctx, client.ObjectKeyFromObject(obj), live)
	switch {
	case apierrors.IsNotFound(err):
		live = nil
	case err != nil:
		c := changeFor(obj, ActionFailed)
		c.Reason = "cannot read the live object: " + err.Error()
		return c
	case ssautils.AnyInMetadata(obj, opts.IfNotPresentSelector):
		c := changeFor(obj, ActionSkipped)
		c.Reason = skipReason(obj)
		return c
	}
	before, after := keyView(live), keyView(obj)
	action := ActionConfigured
	if live == nil {
		action = ActionCreated
	}
	c := changeFor(obj, action)
	c.Reason = sopsReason
	if action == ActionConfigured && equalYAML(before, after) {
		// The values may have changed (a rotation): never "unchanged".
		c.Reason = sopsMayChangeNote
		return c
	}
	if text, err := unifiedDiff(before, after); err == nil {
		c.Diff = text
	}
	return c
}

// keyView is obj reduced to its identity and its keys, every value masked.
func keyView(obj *unstructured.Unstructured) *unstructured.Unstructured {
	if obj == nil {
		return nil
	}
	v := &unstructured.Unstructured{Object: map[string]any{}}
	if isSecret(obj) {
		data := map[string]any{}
		for _, k := range slices.Sorted(maps.Keys(withoutSOPSEnvKeys(secretValues(obj)))) {
			data[k] = maskValue
		}
		v.Object["data"] = data
	} else {
		for k, val := range obj.Object {
			switch k {
			case "apiVersion", "kind", "metadata", "sops", "status":
			default:
				v.Object[k] = maskLeaves(val)
			}
		}
	}
	v.SetAPIVersion(obj.GetAPIVersion())
	v.SetKind(obj.GetKind())
	v.SetNamespace(obj.GetNamespace())
	v.SetName(obj.GetName())
	return v
}

// maskLeaves copies v with every scalar replaced by the mask.
func maskLeaves(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = maskLeaves(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = maskLeaves(x)
		}
		return out
	default:
		return maskValue
	}
}

func equalYAML(a, b *unstructured.Unstructured) bool {
	ya, erra := toYAML(a)
	yb, errb := toYAML(b)
	return erra == nil && errb == nil && ya == yb
}
