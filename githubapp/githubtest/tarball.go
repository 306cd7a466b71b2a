package githubtest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"path"
	"sort"
	"strings"
	"time"
)

type codeloadGrant struct {
	repo, sha string
	expires   time.Time
}

// codeloadToken grants a 5-minute download of repo at sha (GitHub's
// archive links for private repositories expire after five minutes).
// Call with s.mu held.
func (s *Server) codeloadToken(repo, sha string) string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	t := hex.EncodeToString(b)
	if s.st.grants == nil {
		s.st.grants = map[string]codeloadGrant{}
	}
	s.st.grants[t] = codeloadGrant{repo: strings.ToLower(repo), sha: sha, expires: time.Now().Add(5 * time.Minute)}
	return t
}

// serveCodeload serves /_codeload/OWNER/REPO/legacy.tar.gz/SHA?token=T,
// the target of the tarball redirect.
func (s *Server) serveCodeload(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, codeloadPrefix), "/")
	if len(parts) != 4 || parts[2] != "legacy.tar.gz" || r.Method != http.MethodGet {
		s.errorf("githubtest: %s %s is not a tarball download", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	repo, sha := parts[0]+"/"+parts[1], parts[3]
	s.mu.Lock()
	g, ok := s.st.grants[r.URL.Query().Get("token")]
	rs := s.repo(repo)
	var files map[string][]byte
	if rs != nil {
		files = rs.commits[sha]
	}
	s.mu.Unlock()
	if !ok || g.repo != strings.ToLower(repo) || g.sha != sha || time.Now().After(g.expires) || files == nil {
		http.NotFound(w, r)
		return
	}
	data, err := tarball(rs.Owner+"-"+rs.Name+"-"+sha[:min(7, len(sha))], sha, files)
	if err != nil {
		s.errorf("githubtest: build tarball: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/x-gzip")
	w.Header().Set("Content-Disposition", "attachment; filename="+rs.Owner+"-"+rs.Name+"-"+sha[:min(7, len(sha))]+".tar.gz")
	_, _ = w.Write(data)
}

// tarball builds a gzipped tar as `git archive` (and so GitHub) does: a pax
// global header whose comment is the commit SHA, then a top folder
// ("owner-repo-SHORTSHA/") with every directory and file below it.
func tarball(top, sha string, files map[string][]byte) ([]byte, error) {
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	mtime := time.Unix(1700000000, 0)
	err := tw.WriteHeader(&tar.Header{
		Typeflag: tar.TypeXGlobalHeader, Name: "pax_global_header",
		PAXRecords: map[string]string{"comment": sha},
	})
	if err != nil {
		return nil, err
	}
	dirs := map[string]bool{top + "/": true}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			dirs[top+"/"+d+"/"] = true
		}
	}
	for d := range dirs {
		paths = append(paths, strings.TrimPrefix(d, top+"/"))
	}
	sort.Strings(paths)
	for _, p := range paths {
		name := top + "/" + p
		if dirs[name] {
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o775, ModTime: mtime, Format: tar.FormatPAX})
		} else {
			err = tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o664, Size: int64(len(files[p])), ModTime: mtime, Format: tar.FormatPAX})
			if err == nil {
				_, err = tw.Write(files[p])
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
