package githubapp

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    Command
		wantErr string // a substring of the error; empty: no error
	}{
		{name: "bare command diffs everything", body: "/flux-diff", want: Command{}},
		{name: "surrounding blank lines and spaces are ignored", body: "\n  /flux-diff  \n", want: Command{}},
		{name: "later lines are free text", body: "/flux-diff ks apps\nplease, @team\n-n nope", want: Command{Filter: Filter{Kustomization: "apps"}}},
		{name: "help", body: "/flux-diff help", want: Command{Help: true}},
		{name: "help as a flag", body: "/flux-diff --help", want: Command{Help: true}},
		{name: "kustomization by name", body: "/flux-diff kustomization apps", want: Command{Filter: Filter{Kustomization: "apps"}}},
		{name: "ks with short namespace flag", body: "/flux-diff ks apps -n team-a", want: Command{Filter: Filter{Kustomization: "apps", Namespace: "team-a"}}},
		{name: "long flags before the name", body: "/flux-diff ks --namespace team-a --cluster prod-eu apps", want: Command{Filter: Filter{Kustomization: "apps", Namespace: "team-a", Cluster: "prod-eu"}}},
		{name: "flags with =", body: "/flux-diff ks apps --namespace=team-a --cluster=staging", want: Command{Filter: Filter{Kustomization: "apps", Namespace: "team-a", Cluster: "staging"}}},
		{name: "namespace/name form", body: "/flux-diff ks team-a/apps", want: Command{Filter: Filter{Kustomization: "apps", Namespace: "team-a"}}},
		{name: "namespace/name agreeing with -n", body: "/flux-diff ks team-a/apps -n team-a", want: Command{Filter: Filter{Kustomization: "apps", Namespace: "team-a"}}},
		{name: "namespace/name disagreeing with -n", body: "/flux-diff ks team-a/apps -n team-b", wantErr: "namespace given twice"},
		{name: "not a command", body: "please /flux-diff", wantErr: "does not start with /flux-diff"},
		{name: "similar word is not a command", body: "/flux-diffs", wantErr: "does not start with /flux-diff"},
		{name: "unknown subcommand", body: "/flux-diff everything", wantErr: `unknown subcommand "everything"`},
		{name: "missing name", body: "/flux-diff ks", wantErr: "kustomization needs a NAME"},
		{name: "missing name with flags", body: "/flux-diff ks -n team-a", wantErr: "kustomization needs a NAME"},
		{name: "extra argument", body: "/flux-diff ks apps infra", wantErr: `unexpected argument "infra" after the name "apps"`},
		{name: "extra argument after help", body: "/flux-diff help me", wantErr: `unexpected argument "me" after help`},
		{name: "unknown flag", body: "/flux-diff ks apps --context prod", wantErr: "unknown flag --context"},
		{name: "flag without value at the end", body: "/flux-diff ks apps -n", wantErr: "flag -n needs a value"},
		{name: "flag followed by a flag", body: "/flux-diff ks apps --cluster -n x", wantErr: "flag --cluster needs a value"},
		{name: "flag given twice", body: "/flux-diff ks apps -n a --namespace b", wantErr: "flag --namespace given twice"},
		{name: "invalid kustomization name", body: "/flux-diff ks Apps_1", wantErr: `"Apps_1" is not a valid Kustomization name`},
		{name: "invalid namespace", body: "/flux-diff ks apps -n team.a", wantErr: `"team.a" is not a valid namespace`},
		{name: "invalid cluster", body: "/flux-diff ks apps --cluster <b>", wantErr: `"<b>" is not a valid cluster name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand(tt.body)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseCommand(%q) error = %v, want one containing %q", tt.body, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCommand(%q): %v", tt.body, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCommand(%q) (-want +got):\n%s", tt.body, diff)
			}
		})
	}
}

func TestIsCommand(t *testing.T) {
	for body, want := range map[string]bool{
		"/flux-diff":            true,
		"/flux-diff ks apps":    true,
		"\n\t/flux-diff help\n": true,
		"/flux-diffs":           false,
		"LGTM /flux-diff":       false,
		"":                      false,
		"> /flux-diff":          false,
	} {
		if got := IsCommand(body); got != want {
			t.Errorf("IsCommand(%q) = %v, want %v", body, got, want)
		}
	}
}
