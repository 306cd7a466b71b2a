package servertest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Generated describes a repository of the shape large home-lab and platform
// repositories have: a cluster folder (clusters/NAME) that the root
// Kustomization (flux-system) builds, holding the app Namespaces, a
// ConfigMap of cluster variables and one Flux Kustomization per app; each
// app (apps/app-NNN) is a Deployment, a Service and a ConfigMap in its own
// namespace (spec.targetNamespace), uses one of the shared kustomize
// Components (components/cN) and has postBuild variables, inline and from
// the ConfigMap (substituteFrom).
type Generated struct {
	// Cluster names the cluster folder (clusters/Cluster).
	Cluster string
	// Apps is the number of app Kustomizations, Components the number of
	// shared Components (at least 2).
	Apps, Components int
	// FirstComponentApps is how many apps (app-000 onwards) use component
	// c0; the others use c1 … c(Components-1) in turn.
	FirstComponentApps int
}

// AppName is the name of app i's Kustomization and namespace, e.g. app-007.
func AppName(i int) string { return fmt.Sprintf("app-%03d", i) }

// ComponentOf returns the component (its index) that app i uses.
func (g Generated) ComponentOf(i int) int {
	if i < g.FirstComponentApps {
		return 0
	}
	return 1 + i%(g.Components-1)
}

// Write writes the repository into dir.
func (g Generated) Write(dir string) error {
	if g.Components < 2 || g.Apps < 1 || g.Cluster == "" {
		return fmt.Errorf("generated repository: need a cluster, an app and two components, got %+v", g)
	}
	files := map[string]string{
		"clusters/" + g.Cluster + "/cluster-vars.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\n" +
			"data:\n  cluster_env: production\n  region: eu-west-1\n",
	}
	var ns, ks strings.Builder
	for i := range g.Apps {
		app := AppName(i)
		fmt.Fprintf(&ns, "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n", app)
		fmt.Fprintf(&ks, appKustomization, app)
		files["apps/"+app+"/kustomization.yaml"] = fmt.Sprintf("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"+
			"resources:\n  - deployment.yaml\n  - service.yaml\n  - configmap.yaml\ncomponents:\n  - ../../components/c%d\n", g.ComponentOf(i))
		files["apps/"+app+"/deployment.yaml"] = fmt.Sprintf(appDeployment, "6.5.0")
		files["apps/"+app+"/service.yaml"] = appService
		files["apps/"+app+"/configmap.yaml"] = appConfigMap
	}
	files["clusters/"+g.Cluster+"/namespaces.yaml"] = ns.String()
	files["clusters/"+g.Cluster+"/apps.yaml"] = ks.String()
	for c := range g.Components {
		files[fmt.Sprintf("components/c%d/kustomization.yaml", c)] = fmt.Sprintf(component, c)
		files[fmt.Sprintf("components/c%d/configmap.yaml", c)] = ComponentConfigMap(c, "1")
	}
	for p, body := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// AppDeployment is an app's deployment.yaml with the image tag tag (the
// generated repository has 6.5.0).
func AppDeployment(tag string) []byte { return []byte(fmt.Sprintf(appDeployment, tag)) }

// ComponentConfigMap is component c's configmap.yaml at version (the
// generated repository has "1").
func ComponentConfigMap(c int, version string) string {
	return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared-c%d\ndata:\n  feature: enabled\n  version: %q\n", c, version)
}

const appKustomization = `---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata:
  name: %[1]s
  namespace: flux-system
spec:
  interval: 10m
  path: ./apps/%[1]s
  prune: true
  sourceRef:
    kind: GitRepository
    name: flux-system
  targetNamespace: %[1]s
  postBuild:
    substitute:
      app_name: %[1]s
    substituteFrom:
      - kind: ConfigMap
        name: cluster-vars
`

const appDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    example.com/app: ${app_name}
spec:
  replicas: 1
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: ghcr.io/stefanprodan/podinfo:%s
          env:
            - name: CLUSTER_ENV
              value: ${cluster_env}
          ports:
            - containerPort: 9898
`

const appService = `apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  clusterIP: None
  selector:
    app: web
  ports:
    - port: 9898
`

const appConfigMap = `apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
data:
  app: ${app_name}
  region: ${region}
`

const component = `apiVersion: kustomize.config.k8s.io/v1alpha1
kind: Component
resources:
  - configmap.yaml
patches:
  - target:
      kind: Deployment
    patch: |
      apiVersion: apps/v1
      kind: Deployment
      metadata:
        name: any
        annotations:
          example.com/component: c%d
`
