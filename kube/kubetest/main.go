package kubetest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// shared is the control plane that Main started for this test package.
var shared struct {
	env *Env
	err error
}

// Main starts one control plane, runs the package's tests and stops it.
// Use it from TestMain: func TestMain(m *testing.M) { os.Exit(kubetest.Main(m)) }.
func Main(m *testing.M) int {
	shared.env, shared.err = Start()
	if shared.err != nil && !errors.Is(shared.err, ErrNoBinaries) {
		fmt.Fprintln(os.Stderr, "kubetest:", shared.err)
	}
	code := m.Run()
	if shared.env != nil {
		if err := shared.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "kubetest: stop:", err)
		}
	}
	return code
}

// Shared returns the package's control plane, skipping t when there is none
// (or failing it under CI=true).
func Shared(t testing.TB) *Env {
	t.Helper()
	if shared.env == nil {
		err := shared.err
		if err == nil {
			err = errors.New("kubetest.Main was not called from TestMain")
		}
		Unavailable(t, err)
	}
	return shared.env
}

// Unavailable skips t because a real service is missing, or fails it when
// running under CI=true, where everything must be provided.
func Unavailable(t testing.TB, err error) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required under CI=true: %v", err)
	}
	t.Skip(err.Error())
}

// Namespace is a test's own namespace on the shared control plane.
type Namespace struct {
	*Env
	// Name is the namespace.
	Name string
}

// Setup returns the shared control plane and a fresh namespace for t, deleted
// when t ends.
func Setup(t testing.TB) *Namespace {
	t.Helper()
	env := Shared(t)
	return env.NewNamespace(t)
}

// NewNamespace creates a namespace named after t on env, deleted when t ends.
func (e *Env) NewNamespace(t testing.TB) *Namespace {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: namePrefix(t.Name())}}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.Client.Create(ctx, ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.Client.Delete(ctx, ns); client.IgnoreNotFound(err) != nil {
			t.Errorf("delete namespace %s: %v", ns.Name, err)
		}
	})
	return &Namespace{Env: e, Name: ns.Name}
}

// namePrefix turns a test name into a DNS label prefix.
func namePrefix(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case b.Len() > 0 && !strings.HasSuffix(b.String(), "-"):
			b.WriteByte('-')
		}
	}
	p := b.String()
	if len(p) > 40 {
		p = p[:40]
	}
	p = strings.Trim(p, "-")
	if p == "" {
		p = "test"
	}
	return p + "-"
}
