package kube

import "strings"

// NormalizeRepoURL reduces a Git repository URL to the form the index keys
// on: lower-cased host and path joined by a slash, without scheme, user
// information, port, query, fragment, ".git" suffix or trailing slash. So
// https://github.com/Org/Repo.git, ssh://git@github.com:22/org/repo and
// git@github.com:org/repo.git all become "github.com/org/repo". Hosts other
// than github.com (GitHub Enterprise Server) are treated alike.
//
// It never fails: input that is not a URL is cleaned the same way, and
// normalizing a normalized value returns it unchanged.
func NormalizeRepoURL(raw string) string {
	s := strings.ToLower(strings.TrimSpace(raw))
	authority, path := splitAuthority(s)
	host := hostOf(authority)
	path = cleanRepoPath(path)
	switch {
	case host == "" && path == "":
		return ""
	case host == "":
		// "/org/repo" or ":org/repo": what is left is shorter, normalize it.
		return NormalizeRepoURL(path)
	case path == "":
		return host
	}
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
	slash := strings.IndexByte(s, '/')
	if slash < 0 {
		slash = len(s)
	}
	// scp-like: git@github.com:org/repo, a colon before the first slash.
	// An IPv6 literal ([::1]/org/repo) is not scp-like.
	if colon := strings.IndexByte(s[:slash], ':'); colon >= 0 && !strings.Contains(s[:colon], "[") {
		return s[:colon], s[colon+1:]
	}
	return s[:slash], s[min(slash+1, len(s)):]
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
