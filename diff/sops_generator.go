package diff

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/fluxcd/cli-utils/pkg/object"
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// sopsMarkers are the bytes by which kustomize-controller's decryptor tells
// that a Secret data value holds a SOPS document (its
// sopsFormatToMarkerBytes: JSON and binary, dotenv, INI, YAML).
var sopsMarkers = [][]byte{[]byte(`"mac": "ENC[`), []byte("sops_mac=ENC["), []byte("[sops]"), []byte("mac: ENC[")}

// sopsEnvMAC is the key a SOPS-encrypted env file gives a secretGenerator;
// the controller decrypts such a file before the build, and the keys of the
// SOPS metadata (sops_*) leave with the encryption.
const sopsEnvMAC = "sops_mac"

// encryptedEntries reports whether a Secret's data hold SOPS documents: a
// value holding a marker (a generator's encrypted file), or the sops_mac
// key (a generator's encrypted env file).
func encryptedEntries(obj *unstructured.Unstructured) bool {
	data, _, _ := unstructured.NestedMap(obj.Object, "data")
	if _, ok := data[sopsEnvMAC]; ok {
		return true
	}
	for _, v := range data {
		s, _ := v.(string)
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			continue
		}
		for _, m := range sopsMarkers {
			if bytes.Contains(b, m) {
				return true
			}
		}
	}
	return false
}

// hashSuffix matches the suffix kustomize appends to a generated name: a
// dash and ten characters of the hash of the content.
var hashSuffix = regexp.MustCompile(`-[a-z0-9]{10}$`)

// encryptedGenerators makes the Secrets that a secretGenerator builds from
// SOPS-encrypted sources look as kustomize-controller would apply them, as
// far as can be known without the keys. The controller decrypts the sources
// before the build, so their name's hash suffix comes from the plaintext:
// the name built here (from ciphertext) is wrong on every pull request. So a
// Secret whose name, but for the suffix, matches one in the inventory takes
// that name, and every reference in the build follows; the values stay
// unknown and are compared by keys (isSOPS, keyView). It returns a note for
// each Secret whose name cannot be known.
func encryptedGenerators(ks *kustomizev1.Kustomization, objs []*unstructured.Unstructured) []string {
	if !decrypts(ks) {
		return nil
	}
	var notes []string
	renames := map[string]string{}
	for _, o := range objs {
		if !isSecret(o) || decryptionDisabled(o) || !encryptedEntries(o) {
			continue
		}
		if !hashSuffix.MatchString(o.GetName()) {
			continue // disableNameSuffixHash: the name is the generator's
		}
		live, ok := inventoryName(ks, o)
		switch {
		case !ok:
			notes = append(notes, fmt.Sprintf("Secret %s/%s is generated from SOPS-encrypted sources: Flux names it by a hash of the decrypted content, so its name and the references to it may differ", o.GetNamespace(), o.GetName()))
		case live != o.GetName():
			renames[o.GetName()] = live
			o.SetName(live)
		}
	}
	if len(renames) > 0 {
		for _, o := range objs {
			renameReferences(o.Object, renames)
		}
	}
	return notes
}

// withoutSOPSEnvKeys returns a Secret's keys without those of the SOPS
// metadata of an encrypted env file, which its decryption drops.
func withoutSOPSEnvKeys(data map[string]string) map[string]string {
	if _, ok := data[sopsEnvMAC]; !ok {
		return data
	}
	out := make(map[string]string, len(data))
	for k, v := range data {
		if !strings.HasPrefix(k, "sops_") {
			out[k] = v
		}
	}
	return out
}

// inventoryName finds, in ks's inventory, the Secret that the same
// generator made last time: same namespace, same name but for the hash.
func inventoryName(ks *kustomizev1.Kustomization, o *unstructured.Unstructured) (string, bool) {
	if ks.Status.Inventory == nil {
		return "", false
	}
	base := strings.TrimSuffix(o.GetName(), hashSuffix.FindString(o.GetName()))
	for _, e := range ks.Status.Inventory.Entries {
		id, err := object.ParseObjMetadata(e.ID)
		if err != nil || id.GroupKind.Group != "" || id.GroupKind.Kind != "Secret" || id.Namespace != o.GetNamespace() {
			continue
		}
		if strings.TrimSuffix(id.Name, hashSuffix.FindString(id.Name)) == base && hashSuffix.MatchString(id.Name) {
			return id.Name, true
		}
	}
	return "", false
}

// renameReferences replaces, in v, every string equal to an old name with
// the new one. Generated names end in a hash, so an equal string is a
// reference kustomize wrote.
func renameReferences(v any, renames map[string]string) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if s, ok := x.(string); ok {
				if n, ok := renames[s]; ok {
					t[k] = n
				}
				continue
			}
			renameReferences(x, renames)
		}
	case []any:
		for i, x := range t {
			if s, ok := x.(string); ok {
				if n, ok := renames[s]; ok {
					t[i] = n
				}
				continue
			}
			renameReferences(x, renames)
		}
	}
}
