package githubapp

import (
	"archive/tar"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const srcTop = "acme-fleet-0123456"

func TestExtractGitHubTarball(t *testing.T) {
	// Laid out as GitHub serves GET /repos/{owner}/{repo}/tarball/{ref}: a
	// pax global header with the commit ID, then "owner-repo-sha/".
	entries := []srcEntry{
		{Type: tar.TypeXGlobalHeader, Name: "pax_global_header", Body: "0123456789abcdef0123456789abcdef01234567"},
		{Name: srcTop + "/", Type: tar.TypeDir, Mode: 0o775},
		{Name: srcTop + "/clusters/", Type: tar.TypeDir, Mode: 0o755},
		{Name: srcTop + "/clusters/prod/", Type: tar.TypeDir, Mode: 0o755},
		{Name: srcTop + "/clusters/prod/kustomization.yaml", Body: "resources: []\n", Mode: 0o664},
		{Name: srcTop + "/hack/run.sh", Body: "#!/bin/sh\n", Mode: 0o775},
		{Name: srcTop + "/hack/suid", Body: "x", Mode: 0o4755},
		{Name: srcTop + "/link", Type: tar.TypeSymlink, Linkname: "clusters/prod"},
		{Name: srcTop + "/escape", Type: tar.TypeSymlink, Linkname: "../../etc"},
		{Name: srcTop + "/hard", Type: tar.TypeLink, Linkname: srcTop + "/hack/run.sh"},
		{Name: srcTop + "/./a//b.yaml", Body: "b: 1\n"},
	}
	dst := filepath.Join(t.TempDir(), "tree")
	if err := Extract(bytes.NewReader(srcGzip(t, srcTar(t, entries))), dst, Limits{}); err != nil {
		t.Fatalf("Extract: %v", err)
	}
	// Links are dropped as source-controller's Storage.Archive drops them
	// (it keeps regular files and directories only), and modes are 0644 or
	// 0755 as in its artifacts, setuid never.
	want := map[string]treeFile{
		"a":                                {Mode: fs.ModeDir | 0o755},
		"a/b.yaml":                         {Mode: 0o644, Body: "b: 1\n"},
		"clusters":                         {Mode: fs.ModeDir | 0o755},
		"clusters/prod":                    {Mode: fs.ModeDir | 0o755},
		"clusters/prod/kustomization.yaml": {Mode: 0o644, Body: "resources: []\n"},
		"hack":                             {Mode: fs.ModeDir | 0o755},
		"hack/run.sh":                      {Mode: 0o755, Body: "#!/bin/sh\n"},
		"hack/suid":                        {Mode: 0o755, Body: "x"},
	}
	got := readTree(t, dst)
	if umaskedDirs(got) {
		t.Skip("the umask takes bits off directories; run with umask 022")
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("extracted tree (-want +got):\n%s", diff)
	}
}

// umaskedDirs reports whether directories came out other than 0755 (a
// umask stricter than 022).
func umaskedDirs(tree map[string]treeFile) bool {
	for _, f := range tree {
		if f.Mode.IsDir() && f.Mode.Perm() != 0o755 {
			return true
		}
	}
	return false
}

func TestExtractRefuses(t *testing.T) {
	top := func(name string) string { return srcTop + "/" + name }
	small := Limits{MaxBytes: 100, MaxFileBytes: 50, MaxFiles: 4, MaxArchiveBytes: 4096}
	tests := []struct {
		name    string
		entries []srcEntry
		raw     []byte // used instead of entries when set
		lim     Limits
		wantErr error
		entry   string // the entry the error must name
	}{
		{name: "an absolute name", entries: []srcEntry{{Name: "/etc/passwd", Body: "x"}}, wantErr: ErrUnsafeArchive, entry: "/etc/passwd"},
		{name: "a name climbing out", entries: []srcEntry{{Name: top("../../x"), Body: "x"}}, wantErr: ErrUnsafeArchive, entry: top("../../x")},
		{name: "a dot-dot hidden in the middle", entries: []srcEntry{{Name: top("a/../../x"), Body: "x"}}, wantErr: ErrUnsafeArchive, entry: top("a/../../x")},
		{name: "a second top folder", entries: []srcEntry{{Name: top("a"), Body: "x"}, {Name: "other/b", Body: "y"}}, wantErr: ErrUnsafeArchive, entry: "other/b"},
		{name: "a character device", entries: []srcEntry{{Name: top("tty"), Type: tar.TypeChar}}, wantErr: ErrUnsafeArchive, entry: top("tty")},
		{name: "a block device", entries: []srcEntry{{Name: top("sda"), Type: tar.TypeBlock}}, wantErr: ErrUnsafeArchive, entry: top("sda")},
		{name: "a fifo", entries: []srcEntry{{Name: top("pipe"), Type: tar.TypeFifo}}, wantErr: ErrUnsafeArchive, entry: top("pipe")},
		{name: "a file named as the top folder", entries: []srcEntry{{Name: srcTop, Body: "x"}}, wantErr: ErrUnsafeArchive, entry: srcTop},
		{name: "nesting deeper than the bound", entries: []srcEntry{{Name: top(strings.Repeat("d/", maxNameDepth) + "f"), Body: "x"}}, wantErr: ErrUnsafeArchive},
		{name: "a duplicate file", entries: []srcEntry{{Name: top("a"), Body: "x"}, {Name: top("a"), Body: "y"}}, wantErr: fs.ErrExist, entry: top("a")},
		{name: "a file over the file limit", lim: small, entries: []srcEntry{{Name: top("big"), Body: strings.Repeat("x", 51)}}, wantErr: ErrArchiveTooLarge, entry: top("big")},
		{name: "files over the total limit", lim: small, entries: []srcEntry{{Name: top("a"), Body: strings.Repeat("x", 50)}, {Name: top("b"), Body: strings.Repeat("x", 50)}, {Name: top("c"), Body: "x"}}, wantErr: ErrArchiveTooLarge, entry: top("c")},
		{name: "a huge declared size on a dropped link", lim: small, entries: []srcEntry{{Name: top("l"), Type: tar.TypeSymlink, Linkname: "x", Size: 1 << 40}}, wantErr: ErrArchiveTooLarge, entry: top("l")},
		{name: "more entries than the limit", lim: small, entries: []srcEntry{{Name: top("a")}, {Name: top("b")}, {Name: top("c")}, {Name: top("d")}, {Name: top("e")}}, wantErr: ErrArchiveTooLarge, entry: top("e")},
		{name: "a compressed archive over its limit", lim: Limits{MaxArchiveBytes: 64}, entries: []srcEntry{{Name: top("a"), Body: strings.Repeat("incompressible? ", 8) + "0123456789abcdefghijklmnopqrstuvwxyz"}}, wantErr: ErrArchiveTooLarge},
		{name: "an archive cut short", entries: []srcEntry{{Name: top("a"), Body: "abc", Size: 1000}}, wantErr: nil},
		{name: "bytes that are not gzip", raw: []byte("PK\x03\x04 this is a zip"), wantErr: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := tt.raw
			if raw == nil {
				raw = srcGzip(t, srcTar(t, tt.entries))
			}
			dst := filepath.Join(t.TempDir(), "tree")
			err := Extract(bytes.NewReader(raw), dst, tt.lim)
			if err == nil {
				t.Fatal("Extract succeeded; want an error")
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("error %q is not %q", err, tt.wantErr)
			}
			var ee *EntryError
			if tt.entry != "" && (!errors.As(err, &ee) || ee.Name != tt.entry) {
				t.Errorf("error %q does not name entry %q", err, tt.entry)
			}
		})
	}
}

func TestExtractWritesOnlyBelowDst(t *testing.T) {
	// A symlink pointing out, then a file "through" it: the link is dropped,
	// so the file lands in a real directory inside the tree.
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	entries := []srcEntry{
		{Name: srcTop + "/", Type: tar.TypeDir},
		{Name: srcTop + "/out", Type: tar.TypeSymlink, Linkname: outside},
		{Name: srcTop + "/out/planted", Body: "pwned"},
	}
	dst := filepath.Join(parent, "tree")
	if err := Extract(bytes.NewReader(srcGzip(t, srcTar(t, entries))), dst, Limits{}); err != nil {
		t.Fatalf("Extract: %v", err)
	}
	if got := readTree(t, outside); len(got) != 0 {
		t.Errorf("files appeared outside the tree: %v", got)
	}
	if fi, err := os.Lstat(filepath.Join(dst, "out")); err != nil || !fi.IsDir() {
		t.Errorf("out is not a plain directory inside the tree: %v %v", fi, err)
	}
}

func TestExtractNeedsAFreshDestination(t *testing.T) {
	dst := t.TempDir() // exists already
	err := Extract(bytes.NewReader(srcArchive(t, srcTop, map[string]string{"a": "b"})), dst, Limits{})
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("Extract into an existing directory: got %v, want an fs.ErrExist error", err)
	}
}
