package githubapp

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fuzzEscapePath is an absolute name seeded into the corpus; no run may
// create it.
const fuzzEscapePath = "/tmp/fluxdiff-fuzz-escape"

// fuzzLimits are small so that the fuzzer reaches them.
var fuzzLimits = Limits{MaxArchiveBytes: 1 << 20, MaxBytes: 64 << 10, MaxFileBytes: 16 << 10, MaxFiles: 64}

// FuzzExtract feeds Extract hostile archives (go test -fuzz=FuzzExtract
// ./githubapp/) and checks, whatever the outcome, that nothing appeared
// beside the destination, that the tree holds only plain directories and
// 0644/0755 files, and that it stays within the limits. Inputs without the
// gzip magic are compressed first, so the fuzzer mutates tar structure
// rather than breaking checksums.
func FuzzExtract(f *testing.F) {
	top := func(name string) string { return srcTop + "/" + name }
	seeds := [][]srcEntry{
		{{Name: top("a.yaml"), Body: "a: 1\n"}, {Name: top("dir/b.yaml"), Body: "b: 2\n", Mode: 0o755}},
		{{Name: top("../../escape"), Body: "x"}},
		{{Name: fuzzEscapePath, Body: "x"}},
		{{Name: top("link"), Type: tar.TypeSymlink, Linkname: "../../"}, {Name: top("link/planted"), Body: "x"}},
		{{Name: top("abs"), Type: tar.TypeSymlink, Linkname: "/tmp"}, {Name: top("abs/fluxdiff-fuzz-escape"), Body: "x"}},
		{{Name: top("a"), Body: "x"}, {Name: top("hard"), Type: tar.TypeLink, Linkname: "/etc/passwd"}},
		{{Name: top("huge"), Body: "x", Size: 1 << 40}},
		{{Name: top("dev"), Type: tar.TypeChar}, {Name: top("fifo"), Type: tar.TypeFifo}},
		{{Name: top(strings.Repeat("deep/", 200) + "f"), Body: "x"}},
		{{Name: top("suid"), Body: "x", Mode: 0o6777}},
		{{Name: top("a"), Body: "x"}, {Name: top("a/b"), Body: "y"}},
	}
	for _, s := range seeds {
		f.Add(srcTar(f, s))
		f.Add(srcGzip(f, srcTar(f, s)))
	}
	f.Add([]byte("not an archive at all"))
	f.Add([]byte{0x1f, 0x8b, 0x08, 0x00, 0xff, 0xff}) // gzip magic, then junk

	f.Fuzz(func(t *testing.T, data []byte) {
		if !bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
			data = srcGzip(t, data)
		}
		parent := t.TempDir()
		dst := filepath.Join(parent, "tree")
		_ = Extract(bytes.NewReader(data), dst, fuzzLimits)

		if _, err := os.Lstat(fuzzEscapePath); err == nil {
			os.RemoveAll(fuzzEscapePath)
			t.Fatalf("%s was created", fuzzEscapePath)
		}
		siblings, err := os.ReadDir(parent)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range siblings {
			if s.Name() != "tree" {
				t.Fatalf("%s appeared beside the tree", s.Name())
			}
		}
		checkFuzzTree(t, dst)
	})
}

func checkFuzzTree(t *testing.T, dst string) {
	var files, dirs int
	var bytes int64
	err := filepath.WalkDir(dst, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dst && os.IsNotExist(err) {
				return nil
			}
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		m := info.Mode()
		switch {
		case m.IsDir():
		case m.IsRegular():
			if m.Perm() != 0o644 && m.Perm() != 0o755 {
				t.Errorf("%s has mode %v", p, m)
			}
			if info.Size() > fuzzLimits.MaxFileBytes {
				t.Errorf("%s has %d bytes, over the file limit", p, info.Size())
			}
			bytes += info.Size()
		default:
			t.Errorf("%s is neither a regular file nor a directory: %v", p, m)
		}
		if m&(fs.ModeSetuid|fs.ModeSetgid|fs.ModeSticky) != 0 {
			t.Errorf("%s has mode %v", p, m)
		}
		if m.IsRegular() {
			files++
		} else if m.IsDir() && p != dst {
			dirs++
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	// MaxFiles counts entries; a file entry may create its parents.
	if files > fuzzLimits.MaxFiles || dirs > fuzzLimits.MaxFiles*maxNameDepth {
		t.Errorf("%d files and %d directories, over the limit of %d entries", files, dirs, fuzzLimits.MaxFiles)
	}
	if bytes > fuzzLimits.MaxBytes {
		t.Errorf("%d bytes, over the limit of %d", bytes, fuzzLimits.MaxBytes)
	}
}
