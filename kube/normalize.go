package kube

import (
	"strings"
	"unicode"
)

// maxRepoURLLen bounds the input NormalizeRepoURL parses; no real
// repository URL comes near it.
const maxRepoURLLen = 4096

// NormalizeRepoURL reduces a Git repository URL to the form the index keys
// on: lower-cased host and path joined by a slash, without scheme, user
// information, port, query, fragment, ".git" suffix or trailing slash. So
// https://github.com/Org/Repo.git, ssh://git@github.com:22/org/repo and
// git@github.com:org/repo.git all become "github.com/org/repo". Hosts other
// than github.com (GitHub Enterprise Server) are treated alike; IPv6
// literals keep their brackets (git@[::1]:org/repo is "[::1]/org/repo").
//
// Dropping the port means that one host serving different repositories on
// different ports is taken for one server: https://h:8443/o/r and
// https://h/o/r are the same repository here.
//
// Two providers' alternative addresses are mapped to their https form:
// GitHub's SSH over port 443 (ssh.github.com is github.com) and Azure
// DevOps' SSH address (ssh.dev.azure.com:v3/org/project/repo is
// dev.azure.com/org/project/_git/repo). Known false negatives, where one
// repository keeps two keys: Bitbucket Server's https://h/scm/proj/repo and
// ssh://git@h:7999/proj/repo (neither /scm/ nor port 7999 is Bitbucket's
// alone), and Azure DevOps' legacy org.visualstudio.com addresses.
//
// It never fails: input that is not a URL is cleaned the same way, and
// normalizing a normalized value returns it unchanged. Input longer than
// 4 KiB after trimming is not parsed: it is returned trimmed and lower-cased.
func NormalizeRepoURL(raw string) string {
	s := strings.ToLower(strings.TrimSpace(raw))
	if len(s) > maxRepoURLLen {
		return s
	}
	return normalizeRepoURL(s)
}

// normalizeRepoURL is NormalizeRepoURL of a trimmed, lower-cased input of
// any length; it runs in linear time.
func normalizeRepoURL(s string) string {
	authority, path := splitAuthority(s)
	host := hostOf(authority)
	path = cleanRepoPath(path)
	// "/org/repo" or ":org/repo": the host is in what is left. path is clean
	// from here on, so each round only looks at its first segment.
	for host == "" && path != "" {
		authority, path = splitScpLike(path)
		host = hostOf(authority)
		path = recleanHead(path)
	}
	switch {
	case host == "" && path == "":
		return ""
	case path == "":
		return host
	}
	host, path = providerAlias(host, path)
	return host + "/" + path
}

// splitAuthority separates the authority (user@host:port) from the path of
// a URL, an scp-like address (user@host:path) or a bare host/path.
func splitAuthority(s string) (authority, path string) {
	if i := strings.Index(s, "://"); i > 0 && isScheme(s[:i]) {
		s = s[i+3:]
		authority, path, _ = strings.Cut(s, "/")
		return authority, path
	}
	return splitScpLike(s)
}

// splitScpLike splits an scp-like address (git@github.com:org/repo, a colon
// before the first slash) or a bare host/path. In an IPv6 literal
// (git@[::1]:org/repo, [::1]/org/repo) the colon sought follows the closing
// bracket; a bracket that is not closed makes the address not scp-like. It
// reads s only up to the first slash.
func splitScpLike(s string) (authority, path string) {
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		slash = len(s)
	}
	first := s[:slash]
	colon := strings.IndexByte(first, ':')
	if open := strings.IndexByte(first, '['); colon >= 0 && open >= 0 && open < colon {
		colon = -1
		if end := strings.IndexByte(first[open:], ']'); end >= 0 {
			after := open + end + 1
			if c := strings.IndexByte(first[after:], ':'); c >= 0 {
				colon = after + c
			}
		}
	}
	if colon >= 0 {
		return s[:colon], s[colon+1:]
	}
	return first, s[min(slash+1, len(s)):]
}

// hostOf drops user information and the port from an authority.
func hostOf(authority string) string {
	if i := strings.LastIndexByte(authority, '@'); i >= 0 {
		authority = authority[i+1:]
	}
	authority = strings.TrimSpace(authority)
	if end := strings.IndexByte(authority, ']'); strings.HasPrefix(authority, "[") && end >= 0 {
		return authority[:end+1]
	}
	// An unbalanced bracket is not an IPv6 literal: drop it.
	authority = strings.ReplaceAll(authority, "[", "")
	host, _, _ := strings.Cut(authority, ":")
	return strings.TrimSpace(host)
}

// providerAlias maps a provider's alternative address of a repository to
// the address its web URL has. path is clean and not empty.
func providerAlias(host, path string) (string, string) {
	switch host {
	case "ssh.github.com":
		// GitHub's SSH endpoint for networks that only allow port 443
		// (ssh://git@ssh.github.com:443/org/repo) serves github.com alone.
		return "github.com", path
	case "ssh.dev.azure.com":
		// ssh.dev.azure.com:v3/org/project/repo is
		// https://dev.azure.com/org/project/_git/repo.
		if parts := strings.Split(path, "/"); len(parts) == 4 && parts[0] == "v3" {
			return "dev.azure.com", parts[1] + "/" + parts[2] + "/_git/" + parts[3]
		}
	}
	return host, path
}

// cleanRepoPath drops the query, fragment, empty segments, a ".git" suffix
// and surrounding slashes.
func cleanRepoPath(path string) string {
	if i := strings.IndexAny(path, "?#"); i >= 0 {
		path = path[:i]
	}
	parts := strings.Split(path, "/")
	kept := parts[:0]
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && p != "." {
			kept = append(kept, p)
		}
	}
	for len(kept) > 0 {
		last := kept[len(kept)-1]
		trimmed := strings.TrimSpace(strings.TrimSuffix(last, ".git"))
		if trimmed == last {
			break
		}
		if trimmed == "" || trimmed == "." {
			kept = kept[:len(kept)-1]
			continue
		}
		kept[len(kept)-1] = trimmed
	}
	return strings.Join(kept, "/")
}

// recleanHead is cleanRepoPath of a suffix of a clean path: only the first
// segment can need cleaning (a colon split it), and only on the left, since
// the segment it came from was trimmed and, when last, had no ".git"
// suffix. It does not copy.
func recleanHead(path string) string {
	path = strings.TrimLeftFunc(path, unicode.IsSpace)
	head, tail, _ := strings.Cut(path, "/")
	if head == "" || head == "." {
		return tail
	}
	return path
}

func isScheme(s string) bool {
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z':
		case i > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return s != ""
}
