// Package scheme holds the runtime scheme fluxdiff's clients use: core Kubernetes,
// CustomResourceDefinitions and the Flux source, source extensions
// (ArtifactGenerator) and kustomize APIs.
package scheme

import (
	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	swapi "github.com/fluxcd/source-watcher/api/v2/v1beta1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

// New returns a scheme with core Kubernetes, CRD and Flux types.
func New() *runtime.Scheme {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		clientgoscheme.AddToScheme, apiextensionsv1.AddToScheme, sourcev1.AddToScheme, kustomizev1.AddToScheme,
		swapi.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(err) // only on programming errors: the types are compiled in
		}
	}
	return s
}
