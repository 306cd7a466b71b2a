package kube

import "testing"

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
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NormalizeRepoURL(tt.in); got != tt.want {
				t.Errorf("NormalizeRepoURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestNormalizeRepoURLKeepsDifferentRepositoriesApart(t *testing.T) {
	pairs := [][2]string{
		{"https://github.com/org/repo", "https://github.com/org/repo2"},
		{"https://github.com/org/repo", "https://github.com/other/repo"},
		{"https://github.com/org/repo", "https://ghe.example.com/org/repo"},
	}
	for _, p := range pairs {
		if a, b := NormalizeRepoURL(p[0]), NormalizeRepoURL(p[1]); a == b {
			t.Errorf("%q and %q both normalize to %q", p[0], p[1], a)
		}
	}
}

func FuzzNormalizeRepoURL(f *testing.F) {
	for _, s := range []string{
		"https://github.com/Org/Repo.git", "ssh://git@github.com:22/org/repo.git", "git@github.com:org/repo.git",
		"https://[::1]:8443/org/repo", "github.com/org/repo/", "https:///org/repo", "[a:b/c", "h/a.git.git/ ",
		"x://y://z", "git@host:123/repo", "", ":", "@", "/.git/",
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
