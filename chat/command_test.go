package chat

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseCommand(t *testing.T) {
	tests := []struct {
		name string
		text string
		want Command
		// problem is a part of the UsageError's message; empty: no error.
		problem string
	}{
		{name: "empty text asks for help", text: "  ", want: Command{Help: true}},
		{name: "help", text: "help", want: Command{Help: true}},
		{name: "--help after ks", text: "ks apps --help", want: Command{Help: true}},
		{name: "kustomization with default namespace", text: "kustomization apps", want: Command{Name: "apps", Namespace: "flux-system"}},
		{name: "ks alias with every flag", text: "ks apps -n team-a --path ./apps/staging --github-ref 12 --cluster staging",
			want: Command{Name: "apps", Namespace: "team-a", Path: "apps/staging", Cluster: "staging", Ref: &Ref{Kind: RefNumber, Number: 12, Raw: "12"}}},
		{name: "flags before the name and --flag=value", text: "ks --namespace=team-b --cluster=prod infra",
			want: Command{Name: "infra", Namespace: "team-b", Cluster: "prod"}},
		{name: "pull request number with #", text: "ks apps --github-ref #7",
			want: Command{Name: "apps", Namespace: "flux-system", Ref: &Ref{Kind: RefNumber, Number: 7, Raw: "#7"}}},
		{name: "pull request URL as Slack escapes links", text: "ks apps --github-ref <https://github.com/acme/fleet/pull/42/files|github.com/acme/fleet/pull/42/files>",
			want: Command{Name: "apps", Namespace: "flux-system", Ref: &Ref{Kind: RefURL, Number: 42, Host: "github.com", Repo: "acme/fleet", Raw: "https://github.com/acme/fleet/pull/42/files"}}},
		{name: "pull request URL on GitHub Enterprise", text: "ks apps --github-ref https://GHE.example.com/acme/fleet/pull/3",
			want: Command{Name: "apps", Namespace: "flux-system", Ref: &Ref{Kind: RefURL, Number: 3, Host: "ghe.example.com", Repo: "acme/fleet", Raw: "https://GHE.example.com/acme/fleet/pull/3"}}},
		{name: "pull request URL under a path prefix", text: "ks apps --github-ref http://127.0.0.1:8080/_web/acme/fleet/pull/3",
			want: Command{Name: "apps", Namespace: "flux-system", Ref: &Ref{Kind: RefURL, Number: 3, Host: "127.0.0.1:8080", Repo: "acme/fleet", Raw: "http://127.0.0.1:8080/_web/acme/fleet/pull/3"}}},
		{name: "branch", text: "ks apps --github-ref feature/podinfo-6.5",
			want: Command{Name: "apps", Namespace: "flux-system", Ref: &Ref{Kind: RefBranch, Branch: "feature/podinfo-6.5", Raw: "feature/podinfo-6.5"}}},
		{name: "refs/heads/ prefix dropped", text: "ks apps --github-ref refs/heads/main",
			want: Command{Name: "apps", Namespace: "flux-system", Ref: &Ref{Kind: RefBranch, Branch: "main", Raw: "refs/heads/main"}}},
		{name: "quoted path with a space and typographic quotes", text: "ks apps --path \u201capps/my app\u201d",
			want: Command{Name: "apps", Namespace: "flux-system", Path: "apps/my app"}},
		{name: "path ./ is the root", text: "ks apps --path ./", want: Command{Name: "apps", Namespace: "flux-system", Path: "."}},
		{name: "entities are decoded", text: "ks apps --github-ref a&amp;b",
			want: Command{Name: "apps", Namespace: "flux-system", Ref: &Ref{Kind: RefBranch, Branch: "a&b", Raw: "a&b"}}},

		{name: "unknown subcommand", text: "helmrelease podinfo", problem: `unknown subcommand "helmrelease"`},
		{name: "missing name", text: "ks -n flux-system", problem: "missing Kustomization name"},
		{name: "two names", text: "ks apps infra", problem: `unexpected argument "infra"`},
		{name: "unknown flag", text: "ks apps --context prod", problem: `unknown flag "--context"`},
		{name: "flag without value at the end", text: "ks apps --cluster", problem: "flag --cluster needs a value"},
		{name: "empty inline value", text: "ks apps --path=", problem: "flag --path needs a value"},
		{name: "flag given twice under two spellings", text: "ks apps -n a --namespace b", problem: "flag --namespace is given twice"},
		{name: "invalid name", text: "ks Apps_1", problem: `"Apps_1" is not a valid Kustomization name`},
		{name: "invalid namespace", text: "ks apps -n flux.system", problem: `"flux.system" is not a valid namespace`},
		{name: "path leaving the repository", text: "ks apps --path ../other", problem: "must stay inside the repository"},
		{name: "absolute path", text: "ks apps --path /etc", problem: "must stay inside the repository"},
		{name: "zero is no pull request", text: "ks apps --github-ref 0", problem: `"0" is not a pull request number`},
		{name: "# with no number", text: "ks apps --github-ref #x", problem: "is not a pull request number"},
		{name: "URL that is no pull request", text: "ks apps --github-ref https://github.com/acme/fleet/tree/main", problem: "is not a pull request URL"},
		{name: "URL with a bad number", text: "ks apps --github-ref https://github.com/acme/fleet/pull/abc", problem: `"abc" is not a pull request number`},
		{name: "branch with ..", text: "ks apps --github-ref a..b", problem: "contains .. or @{"},
		{name: "branch with a colon", text: "ks apps --github-ref main:x", problem: `contains ':'`},
		{name: "unterminated quote", text: `ks apps --path "apps`, problem: "unterminated \" quote"},
		{name: "help with arguments", text: "help me", problem: `unexpected argument "me" after help`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCommand(tt.text)
			if tt.problem != "" {
				var ue *UsageError
				if !errors.As(err, &ue) {
					t.Fatalf("ParseCommand(%q) error = %v, want a *UsageError containing %q", tt.text, err, tt.problem)
				}
				if !strings.Contains(ue.Problem, tt.problem) {
					t.Fatalf("ParseCommand(%q) problem = %q, want it to contain %q", tt.text, ue.Problem, tt.problem)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseCommand(%q): %v", tt.text, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseCommand(%q) (-want +got):\n%s", tt.text, diff)
			}
		})
	}
}

func TestCommandStringParsesBack(t *testing.T) {
	for _, text := range []string{"ks apps", "kustomization apps -n team --path apps/x --github-ref 12 --cluster prod", "help"} {
		c, err := ParseCommand(text)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseCommand(strings.TrimPrefix(c.String(), CommandName+" "))
		if err != nil {
			t.Fatalf("%q → %q: %v", text, c.String(), err)
		}
		if diff := cmp.Diff(c, back); diff != "" {
			t.Errorf("%q → %q parses differently (-first +second):\n%s", text, c.String(), diff)
		}
	}
}
