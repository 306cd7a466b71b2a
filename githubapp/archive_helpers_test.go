package githubapp

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// srcEntry is one entry of a tar archive built by a test.
type srcEntry struct {
	Name     string
	Type     byte // tar.TypeReg when zero
	Body     string
	Mode     int64 // 0o644 when zero
	Linkname string
	Size     int64 // len(Body) when zero; set to declare another size
}

// srcTar writes entries as an uncompressed tar stream.
func srcTar(t testing.TB, entries []srcEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Mode: e.Mode, Linkname: e.Linkname, Size: e.Size, Format: tar.FormatPAX}
		if hdr.Typeflag == 0 {
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
		}
		if hdr.Size == 0 && hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if hdr.Typeflag == tar.TypeXGlobalHeader {
			hdr = &tar.Header{Typeflag: tar.TypeXGlobalHeader, Name: e.Name, PAXRecords: map[string]string{"comment": e.Body}}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatalf("write header %q: %v", e.Name, err)
		}
		if e.Body != "" && hdr.Typeflag == tar.TypeReg {
			// A declared size larger than the body leaves the archive
			// short, as a truncated download would.
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatalf("write body %q: %v", e.Name, err)
			}
		}
	}
	// Flush without the end-of-archive marker when the last body is short.
	_ = tw.Flush()
	_ = tw.Close()
	return buf.Bytes()
}

// srcGzip compresses b.
func srcGzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// srcArchive builds a gzip tar archive laid out as GitHub's tarballs are:
// a pax global header holding the commit, then everything under top/.
func srcArchive(t testing.TB, top string, files map[string]string) []byte {
	t.Helper()
	entries := []srcEntry{
		{Type: tar.TypeXGlobalHeader, Name: "pax_global_header", Body: "0123456789abcdef0123456789abcdef01234567"},
		{Name: top + "/", Type: tar.TypeDir, Mode: 0o755},
	}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	dirs := map[string]bool{}
	for _, n := range names {
		for d := filepath.Dir(n); d != "."; d = filepath.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				entries = append(entries, srcEntry{Name: top + "/" + d + "/", Type: tar.TypeDir, Mode: 0o755})
			}
		}
		entries = append(entries, srcEntry{Name: top + "/" + n, Body: files[n]})
	}
	return srcGzip(t, srcTar(t, entries))
}

// treeFile is one thing found under an extracted tree.
type treeFile struct {
	Mode fs.FileMode
	Body string
}

// readTree lists everything below dir by slash path: directories with their
// mode and no body, regular files with mode and content, anything else with
// its type bits so that a test comparing trees sees it.
func readTree(t testing.TB, dir string) map[string]treeFile {
	t.Helper()
	got := map[string]treeFile{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == dir {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := treeFile{Mode: info.Mode()}
		if info.Mode().IsRegular() {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			f.Body = string(b)
		}
		got[filepath.ToSlash(rel)] = f
		return nil
	})
	if err != nil {
		t.Fatalf("walk %s: %v", dir, err)
	}
	return got
}
