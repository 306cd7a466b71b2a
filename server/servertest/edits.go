package servertest

import (
	"fmt"
	"strings"

	"github.com/fluxdiff/fluxdiff/diff"
)

// Edit returns files[path] with the first old replaced by new, or an error
// when old is not there (the fixture repository changed under the test).
func Edit(files map[string][]byte, path, old, new string) ([]byte, error) {
	s := string(files[path])
	if !strings.Contains(s, old) {
		return nil, fmt.Errorf("%s does not contain %q", path, old)
	}
	return []byte(strings.Replace(s, old, new, 1)), nil
}

// SecretChanges are the files of a pull request on the example repository
// that carries secret canaries: a Secret in staging's apps holding
// fileCanary, and a ConfigMap whose ${DB_PASSWORD} the apps Kustomization
// substitutes from the cluster Secret flux-system/cluster-secrets
// (postBuild.substituteFrom), which the test creates with its own canary.
func SecretChanges(base map[string][]byte, fileCanary string) (map[string][]byte, error) {
	const k, apps = "apps/staging/kustomization.yaml", "clusters/staging/apps.yaml"
	kust, err := Edit(base, k, "  - ../base/podinfo\n", "  - ../base/podinfo\n  - db.yaml\n  - token.yaml\n")
	if err != nil {
		return nil, err
	}
	ks, err := Edit(base, apps, "  prune: true\n", "  prune: true\n  postBuild:\n    substituteFrom:\n      - kind: Secret\n        name: cluster-secrets\n")
	if err != nil {
		return nil, err
	}
	return map[string][]byte{
		"apps/staging/db.yaml": []byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: db\n  namespace: podinfo\n" +
			"data:\n  dsn: postgres://app:${DB_PASSWORD}@db/app\n"),
		"apps/staging/token.yaml": []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  namespace: podinfo\n" +
			"stringData:\n  token: " + fileCanary + "\n"),
		k:    kust,
		apps: ks,
	}, nil
}

// Rows names the Kustomizations a report diffed, "cluster/namespace/name",
// in its order.
func Rows(r diff.Report) []string {
	var out []string
	for _, k := range r.Kustomizations {
		out = append(out, k.Cluster+"/"+k.Namespace+"/"+k.Name)
	}
	return out
}
