// Package kubetest runs a real kube-apiserver and etcd for tests: one control
// plane per test package (started from TestMain), the Flux CRDs installed, a
// namespace of its own for every test and a controller-runtime client.
//
// The binaries come from KUBEBUILDER_ASSETS, which `make test` sets to the
// folder printed by hack/testbin/build.sh. Without them tests skip with a
// message saying how to get them, except under CI=true, where they fail.
package kubetest
