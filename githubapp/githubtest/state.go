package githubtest

import (
	"crypto/rsa"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Repo is a repository fixture.
type Repo struct {
	// Owner and Name make the full name "owner/name" (matched
	// case-insensitively, as GitHub does).
	Owner, Name string
	// DefaultBranch defaults to "main".
	DefaultBranch string
	// InstallationID is the installation that can access the repository
	// (default: the server's installation).
	InstallationID int64
	// Private marks a private repository.
	Private bool
	// ID is assigned by AddRepo.
	ID int64
}

// FullName returns "owner/name".
func (r Repo) FullName() string { return r.Owner + "/" + r.Name }

type state struct {
	key    *rsa.PrivateKey
	nextID int64
	// installations maps an installation ID to its account login.
	installations map[int64]string
	repos         map[string]*repoState // lower-case full name
	tokens        map[string]token
	comments      map[int64]*Comment
	checkRuns     map[int64]*CheckRun
	grants        map[string]codeloadGrant
	reviews       []*Review
}

type repoState struct {
	Repo
	commits  map[string]map[string][]byte // SHA → path → content
	order    []string                     // commit SHAs in the order added
	branches map[string]string            // branch → SHA
	parents  map[string][]string          // SHA → parent SHAs
	pulls    map[int]*pullState
	perms    map[string]string // login → role
}

func newState(o Options, key *rsa.PrivateKey) *state {
	return &state{
		key:           key,
		nextID:        1000,
		installations: map[int64]string{o.InstallationID: o.Account},
		repos:         map[string]*repoState{},
		tokens:        map[string]token{},
		comments:      map[int64]*Comment{},
		checkRuns:     map[int64]*CheckRun{},
	}
}

func (st *state) id() int64 {
	st.nextID++
	return st.nextID
}

// AddInstallation adds an installation of the App on account.
func (s *Server) AddInstallation(id int64, account string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.installations[id] = account
}

// AddRepo adds a repository and returns it with defaults and ID filled in.
func (s *Server) AddRepo(r Repo) Repo {
	if r.DefaultBranch == "" {
		r.DefaultBranch = "main"
	}
	if r.InstallationID == 0 {
		r.InstallationID = s.opts.InstallationID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ID = s.st.id()
	s.st.repos[strings.ToLower(r.FullName())] = &repoState{
		Repo: r, commits: map[string]map[string][]byte{}, branches: map[string]string{},
		pulls: map[int]*pullState{}, perms: map[string]string{},
	}
	return r
}

// repo returns the state of repo ("owner/name"); call with s.mu held.
func (s *Server) repo(name string) *repoState {
	return s.st.repos[strings.ToLower(name)]
}

// mustRepo is repo for fixture helpers: an unknown repository fails the
// test. Call with s.mu held.
func (s *Server) mustRepo(name string) *repoState {
	r := s.repo(name)
	if r == nil {
		s.fatalf("githubtest: no repository %s (AddRepo first)", name)
	}
	return r
}

// AddCommit stores a commit of repo with the given files (slash-separated
// paths → content) and returns its SHA: sha when given (40 hex digits),
// else one derived from the files. The first commit of a repository also
// becomes its default branch's head.
func (s *Server) AddCommit(repo, sha string, files map[string][]byte) string {
	if sha == "" {
		sha = treeSHA(files)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.mustRepo(repo)
	cp := make(map[string][]byte, len(files))
	for p, b := range files {
		cp[strings.TrimPrefix(p, "/")] = append([]byte(nil), b...)
	}
	if _, ok := r.commits[sha]; !ok {
		r.order = append(r.order, sha)
	}
	r.commits[sha] = cp
	if _, ok := r.branches[r.DefaultBranch]; !ok {
		r.branches[r.DefaultBranch] = sha
	}
	return sha
}

// AddCommitDir is AddCommit with the regular files under dir.
func (s *Server) AddCommitDir(repo, sha, dir string) (string, error) {
	files := map[string][]byte{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		files[filepath.ToSlash(rel)] = b
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("githubtest: read %s: %w", dir, err)
	}
	return s.AddCommit(repo, sha, files), nil
}

// SetBranch points branch of repo at sha.
func (s *Server) SetBranch(repo, branch, sha string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(repo).branches[branch] = sha
}

// SetPermission sets the role of user on repo: "admin", "maintain",
// "write", "triage", "read" or "none". Users without a role have "read"
// on public repositories and "none" on private ones.
func (s *Server) SetPermission(repo, user, role string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mustRepo(repo).perms[strings.ToLower(user)] = role
}

// resolve returns the commit SHA of ref in r: a known SHA, a branch name,
// or "refs/heads/NAME" / "heads/NAME"; "" when unknown.
func (r *repoState) resolve(ref string) string {
	if _, ok := r.commits[ref]; ok {
		return ref
	}
	b := strings.TrimPrefix(strings.TrimPrefix(ref, "refs/"), "heads/")
	return r.branches[b]
}

// treeSHA derives a stable 40-hex SHA from files.
func treeSHA(files map[string][]byte) string {
	keys := make([]string, 0, len(files))
	for k := range files {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha1.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s\x00%d\x00", k, len(files[k]))
		h.Write(files[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// SHA returns a stable 40-hex fake commit SHA for seed (for fixtures that
// need a SHA before its files are known).
func SHA(seed string) string {
	h := sha1.Sum([]byte(seed))
	return hex.EncodeToString(h[:])
}

func stamp(t time.Time) string { return t.UTC().Format(time.RFC3339) }
