// Package kustbuild runs kustomize the way kustomize-controller does
// (fluxcd/pkg/kustomize Build), without parsing kustomize's built-in
// Kubernetes OpenAPI schema again for every build when nothing can have
// changed it.
//
// Why: fluxcd/pkg/kustomize v1.41.0 Build (kustomize_generator.go) takes a
// process-wide mutex, resets kyaml's global OpenAPI state, parses the
// embedded Kubernetes schema (openapi.Schema), runs krusty with load
// restrictions off and plugins disabled, and resets the state again when it
// returns. The resets keep a kustomization's `openapi:` field (a custom
// schema file or a schema version) from leaking into the next build. The
// parse costs tens of milliseconds of CPU per build, and in fluxdiff's
// end-to-end profile it was half of all CPU.
//
// This package gives every build the same starting state (the built-in
// schema freshly parsed, no custom schema, no version), but it re-creates
// that state only when the previous build may have changed it: when it set a
// schema version or a custom schema (kyaml's GetSchemaVersion no longer
// reports the default), failed, or panicked. kustomize changes kyaml's
// global schema only through openapi.SetSchema (krusty.Kustomizer.Run for
// the root kustomization, KustTarget for each one it loads), so a build
// whose kustomizations have no `openapi:` field leaves the state as it found
// it.
package kustbuild

import (
	"fmt"
	"sync"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	kustypes "sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/openapi"
)

var (
	// mu serialises every kustomize run of the process, as
	// fluxcd/pkg/kustomize's kustomizeBuildMutex does: kyaml's OpenAPI
	// state is global and not safe for concurrent builds
	// (kubernetes-sigs/kustomize#3659).
	mu sync.Mutex
	// fresh is true while kyaml's global OpenAPI state is what
	// openapi.ResetOpenAPI followed by openapi.Schema leaves. Guarded by mu.
	fresh bool
	// defaultVersion is what openapi.GetSchemaVersion reports in that
	// state. Guarded by mu.
	defaultVersion string
	// parses counts the built-in schema parses (read by the tests). Guarded
	// by mu.
	parses int
)

// Run builds dir in fs as fluxcd/pkg/kustomize Build does: krusty with
// LoadRestrictionsNone and the plugin configuration that disables all but
// the built-in plugins, one build at a time in the process, from kyaml's
// freshly parsed built-in OpenAPI schema. A panic inside kustomize becomes
// an error, "recovered from kustomize build panic: ...", as in Build.
func Run(fs filesys.FileSystem, dir string) (m resmap.ResMap, err error) {
	mu.Lock()
	defer mu.Unlock()
	ensureFresh()
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("recovered from kustomize build panic: %v", r)
		}
		if err != nil || openapi.GetSchemaVersion() != defaultVersion {
			fresh = false
		}
	}()
	k := krusty.MakeKustomizer(&krusty.Options{
		LoadRestrictions: kustypes.LoadRestrictionsNone,
		PluginConfig:     kustypes.DisabledPluginConfig(),
	})
	return k.Run(fs, dir)
}

// Locked runs fn while holding the lock that serialises kustomize runs, with
// kyaml's OpenAPI state fresh, for kustomize work that is not a whole build
// (a transformer applied to a resource map). fn must not set a schema.
func Locked(fn func() error) error {
	mu.Lock()
	defer mu.Unlock()
	ensureFresh()
	return fn()
}

// ensureFresh re-creates the fresh OpenAPI state when it may have changed.
// The caller holds mu.
func ensureFresh() {
	if fresh {
		return
	}
	openapi.ResetOpenAPI()
	_ = openapi.Schema()
	parses++
	defaultVersion = openapi.GetSchemaVersion()
	fresh = true
}
