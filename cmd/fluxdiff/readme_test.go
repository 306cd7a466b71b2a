package main

import (
	"os"
	"strings"
	"testing"

	"github.com/fluxdiff/fluxdiff/cmd/fluxdiff/internal/config"
)

// The README's list of environment overrides is what users read: it must
// name every variable the configuration takes.
func TestReadmeNamesEveryEnvironmentOverride(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range config.EnvNames() {
		if !strings.Contains(string(b), "`"+name+"`") {
			t.Errorf("README.md does not list %s", name)
		}
	}
}
