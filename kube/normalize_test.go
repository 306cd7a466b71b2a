package kube

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestNormalizeRepoURL(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"an https URL with .git and capitals", "https://github.com/Org/Repo.git", "github.com/org/repo"},
		{"a plain https URL", "https://github.com/org/repo", "github.com/org/repo"},
		{"an ssh URL with a user", "ssh://git@github.com/org/repo.git", "github.com/org/repo"},
		{"an scp-like address", "git@github.com:org/repo.git", "github.com/org/repo"},
		{"an ssh URL with a port", "ssh://git@github.com:22/org/repo", "github.com/org/repo"},
		{"an https URL with user info and a port", "https://user:token@github.com:443/org/repo", "github.com/org/repo"},
		{"a trailing slash", "https://github.com/org/repo/", "github.com/org/repo"},
		{"a trailing slash after .git", "https://github.com/org/repo.git/", "github.com/org/repo"},
		{"a GitHub Enterprise host", "https://GHE.Example.com/Team/Fleet.git", "ghe.example.com/team/fleet"},
		{"a GitHub Enterprise scp-like address", "git@ghe.example.com:team/fleet", "ghe.example.com/team/fleet"},
		{"a GitHub Enterprise ssh URL with a port", "ssh://git@ghe.example.com:7999/team/fleet.git", "ghe.example.com/team/fleet"},
		{"an http URL", "http://github.com/org/repo", "github.com/org/repo"},
		{"a query and a fragment", "https://github.com/org/repo.git?ref=main#frag", "github.com/org/repo"},
		{"doubled slashes", "https://github.com//org//repo", "github.com/org/repo"},
		{"surrounding spaces", "  https://github.com/org/repo  ", "github.com/org/repo"},
		{"an already normalized value", "github.com/org/repo", "github.com/org/repo"},
		{"an IPv6 host with a port", "https://[::1]:8443/org/repo.git", "[::1]/org/repo"},
		{"a nested GitLab-style group", "https://gitlab.com/group/sub/repo.git", "gitlab.com/group/sub/repo"},
		{"an empty string", "", ""},
		{"an scp-like address with an IPv6 host", "git@[::1]:a/repo.git", "[::1]/a/repo"},
		{"an scp-like address with an IPv6 host and no user", "[fd00::2]:org/repo", "[fd00::2]/org/repo"},
		{"an ssh URL with an IPv6 host and a port", "ssh://git@[::1]:2222/a/repo", "[::1]/a/repo"},
		// The port is dropped: the same host on two ports is taken for one
		// server (https://h:8443/o/r and https://h/o/r are one repository).
		{"a port other than the scheme's", "https://h:8443/o/r", "h/o/r"},
		{"GitHub's SSH over the HTTPS port", "ssh://git@ssh.github.com:443/Org/Repo.git", "github.com/org/repo"},
		{"an Azure DevOps https URL", "https://org@dev.azure.com/Org/Project/_git/Repo", "dev.azure.com/org/project/_git/repo"},
		{"an Azure DevOps scp-like address", "git@ssh.dev.azure.com:v3/Org/Project/Repo", "dev.azure.com/org/project/_git/repo"},
		{"an Azure DevOps ssh URL", "ssh://git@ssh.dev.azure.com/v3/org/project/repo", "dev.azure.com/org/project/_git/repo"},
		{"an input beyond 4 KiB is only trimmed and lower-cased", " HTTPS://X/" + strings.Repeat("A", 4096) + " ", "https://x/" + strings.Repeat("a", 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeRepoURL(tt.in); got != tt.want {
				t.Errorf("NormalizeRepoURL(%.80q) = %.80q, want %.80q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeRepoURLKeepsDifferentRepositoriesApart(t *testing.T) {
	pairs := [][2]string{
		{"https://github.com/org/repo", "https://github.com/org/repo2"},
		{"https://github.com/org/repo", "https://github.com/other/repo"},
		{"https://github.com/org/repo", "https://ghe.example.com/org/repo"},
		{"git@[::1]:a/repo", "git@[::1]:b/repo"},
		{"[::1]:a/repo", "[::2]:a/repo"},
		{"ssh://git@ssh.dev.azure.com/v3/org/project/repo", "https://dev.azure.com/org/project/repo"},
	}
	for _, p := range pairs {
		if a, b := NormalizeRepoURL(p[0]), NormalizeRepoURL(p[1]); a == b {
			t.Errorf("%q and %q both normalize to %q", p[0], p[1], a)
		}
	}
}

// TestNormalizeRepoURLKnownFalseNegatives pins URL pairs that name one
// repository but normalize apart. They are not merged because no rule is
// unambiguous: /scm/ and port 7999 are Bitbucket Server's conventions, but a
// GitLab group may be called scm and any server may listen on 7999. A pull
// request from such a repository finds no Kustomization through the other
// form.
func TestNormalizeRepoURLKnownFalseNegatives(t *testing.T) {
	pairs := [][2]string{
		{"https://bitbucket.example.com/scm/proj/repo.git", "ssh://git@bitbucket.example.com:7999/proj/repo.git"},
		{"https://org.visualstudio.com/project/_git/repo", "https://dev.azure.com/org/project/_git/repo"},
	}
	for _, p := range pairs {
		if a, b := NormalizeRepoURL(p[0]), NormalizeRepoURL(p[1]); a == b {
			t.Errorf("%q and %q now both normalize to %q: update the documentation of NormalizeRepoURL", p[0], p[1], a)
		}
	}
}

// TestNormalizeRepoURLIsLinear feeds an adversarial input that took 30 s
// when each host-less prefix was normalized again from scratch.
func TestNormalizeRepoURLIsLinear(t *testing.T) {
	in := "https://:/" + strings.Repeat(":/", 50000)
	for name, f := range map[string]func(string) string{"NormalizeRepoURL": NormalizeRepoURL, "normalizeRepoURL": normalizeRepoURL} {
		start := time.Now()
		got := f(in)
		if took := time.Since(start); took > time.Second {
			t.Errorf("%s of %d bytes took %s", name, len(in), took)
		}
		if name == "normalizeRepoURL" && got != "" {
			t.Errorf("%s = %.20q, want empty", name, got)
		}
	}
}

func BenchmarkNormalizeRepoURL(b *testing.B) {
	for _, in := range []string{"git@github.com:org/repo.git", "https://:/" + strings.Repeat(":/", 2000)} {
		b.Run(fmt.Sprintf("%d bytes", len(in)), func(b *testing.B) {
			for b.Loop() {
				NormalizeRepoURL(in)
			}
		})
	}
}

func FuzzNormalizeRepoURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/Org/Repo.git", "ssh://git@github.com:22/org/repo.git", "git@github.com:org/repo.git",
		"https://[::1]:8443/org/repo", "github.com/org/repo/", "https:///org/repo", "[a:b/c", "h/a.git.git/ ",
		"x://y://z", "git@host:123/repo", "", ":", "@", "/.git/",
		"git@[::1]:a/repo", "[::1]:[::2]:x", "ssh://git@ssh.github.com:443/o/r", "git@ssh.dev.azure.com:v3/o/p/r",
		"ssh.dev.azure.com/v3/o/p/r.git", ":/: /./:x.git",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		once := NormalizeRepoURL(in)
		if twice := NormalizeRepoURL(once); twice != once {
			t.Errorf("not idempotent: %q -> %q -> %q", in, once, twice)
		}
	})
}
