package githubapp

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// Default limits of an extracted source tree (see Limits).
const (
	DefaultMaxArchiveBytes = 256 << 20 // 256 MiB compressed
	DefaultMaxBytes        = 512 << 20 // 512 MiB uncompressed
	DefaultMaxFileBytes    = 64 << 20  // 64 MiB for one file
	DefaultMaxFiles        = 100_000
)

// Fixed bounds on entry names: longer names or deeper nesting are refused as
// unsafe (Linux's PATH_MAX is 4096 bytes; no real repository nests deeper).
const (
	maxNameBytes = 4096
	maxNameDepth = 128
)

// Errors an extraction wraps (test with errors.Is); an *EntryError names the
// entry at fault.
var (
	// ErrArchiveTooLarge means the archive broke one of its Limits.
	ErrArchiveTooLarge = errors.New("archive exceeds a limit")
	// ErrUnsafeArchive means an entry would leave the destination, is of a
	// type git cannot store (device, fifo), or the archive is not laid out
	// as GitHub lays out its tarballs (one top folder).
	ErrUnsafeArchive = errors.New("unsafe archive entry")
)

// Limits bounds what one source archive may hold. A zero field takes its
// default (DefaultMaxArchiveBytes and so on); sizes are in bytes.
type Limits struct {
	// MaxArchiveBytes caps the compressed bytes read.
	MaxArchiveBytes int64
	// MaxBytes caps the total size of all entries, uncompressed.
	MaxBytes int64
	// MaxFileBytes caps the size of a single file.
	MaxFileBytes int64
	// MaxFiles caps the number of entries of any type.
	MaxFiles int
}

func (l Limits) withDefaults() Limits {
	if l.MaxArchiveBytes <= 0 {
		l.MaxArchiveBytes = DefaultMaxArchiveBytes
	}
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = DefaultMaxFiles
	}
	return l
}

// EntryError is an extraction error caused by one archive entry.
type EntryError struct {
	// Name is the entry's name as the archive gives it (cut to 200 bytes).
	Name string
	Err  error
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("archive entry %q: %v", e.Name, e.Err)
}

func (e *EntryError) Unwrap() error { return e.Err }

func entryErr(name string, err error) error {
	if len(name) > 200 {
		name = name[:200] + "..."
	}
	return &EntryError{Name: name, Err: err}
}

// Extract unpacks a gzip-compressed tar archive laid out as GitHub serves a
// repository tarball (GET /repos/{owner}/{repo}/tarball/{ref}): every entry
// lies under one top folder, "owner-repo-sha/", which is stripped. dst must
// not exist (its parent must): Extract creates it, so nothing but the
// archive's content is ever in it, and writes only below it.
//
// The tree is kept as source-controller's artifact keeps a git checkout
// (internal/storage Storage.Archive): regular files and directories only,
// symbolic and hard links dropped without a trace, file modes 0644, or
// 0755 when any execute bit is set (never setuid, setgid or sticky).
// Devices, fifos and unknown entry types are refused (git cannot store
// them), as are absolute names and names with a ".." component, and
// entries past lim. Errors wrap ErrUnsafeArchive or ErrArchiveTooLarge in
// an *EntryError naming the entry when one is at fault. On error, dst may
// hold part of the tree; the caller removes it.
func Extract(r io.Reader, dst string, lim Limits) error {
	_, err := extract(r, dst, lim)
	return err
}

// extract is Extract returning the total size of the files written.
func extract(r io.Reader, dst string, lim Limits) (int64, error) {
	lim = lim.withDefaults()
	if err := os.Mkdir(dst, 0o755); err != nil {
		return 0, fmt.Errorf("create extraction directory: %w", err)
	}
	root, err := os.OpenRoot(dst)
	if err != nil {
		return 0, fmt.Errorf("open extraction directory: %w", err)
	}
	defer root.Close()

	compressed := newCappedReader(r, lim.MaxArchiveBytes, "compressed archive")
	zr, err := gzip.NewReader(compressed)
	if err != nil {
		return 0, fmt.Errorf("read archive: not gzip: %w", err)
	}
	defer zr.Close()
	// The tar stream also holds headers and padding: allow them room, so
	// that a stream of empty entries cannot decompress without end either.
	stream := newCappedReader(zr, lim.MaxBytes+int64(lim.MaxFiles)*2048+1<<20, "uncompressed tar stream")
	x := extractor{root: root, lim: lim, tr: tar.NewReader(stream)}
	if err := x.run(); err != nil {
		return x.written, err
	}
	return x.written, nil
}

type extractor struct {
	root    *os.Root
	lim     Limits
	tr      *tar.Reader
	top     string // the top folder, once seen
	entries int
	total   int64 // bytes of all entries, as their headers declare
	written int64 // bytes of files written
}

func (x *extractor) run() error {
	for {
		hdr, err := x.tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		if err := x.entry(hdr); err != nil {
			return err
		}
	}
}

func (x *extractor) entry(hdr *tar.Header) error {
	if hdr.Typeflag == tar.TypeXGlobalHeader {
		// git archive writes one, holding the commit ID.
		return nil
	}
	x.entries++
	if x.entries > x.lim.MaxFiles {
		return entryErr(hdr.Name, fmt.Errorf("%w: more than %d entries", ErrArchiveTooLarge, x.lim.MaxFiles))
	}
	if hdr.Size < 0 {
		return entryErr(hdr.Name, fmt.Errorf("%w: negative size", ErrUnsafeArchive))
	}
	// Count every entry's declared size, even of those dropped, so that
	// skipping their bodies is bounded too.
	x.total += hdr.Size
	if x.total > x.lim.MaxBytes {
		return entryErr(hdr.Name, fmt.Errorf("%w: more than %d bytes in all", ErrArchiveTooLarge, x.lim.MaxBytes))
	}
	rel, err := x.relName(hdr.Name)
	if err != nil {
		return entryErr(hdr.Name, err)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		if rel == "." {
			return nil
		}
		if err := x.root.MkdirAll(rel, 0o755); err != nil {
			return entryErr(hdr.Name, err)
		}
		return nil
	case tar.TypeReg: // archive/tar turns the old TypeRegA into TypeReg
		if rel == "." {
			return entryErr(hdr.Name, fmt.Errorf("%w: file in place of the top folder", ErrUnsafeArchive))
		}
		return x.file(hdr, rel)
	case tar.TypeSymlink, tar.TypeLink:
		return nil
	default:
		return entryErr(hdr.Name, fmt.Errorf("%w: entry type %q is not a file or directory", ErrUnsafeArchive, hdr.Typeflag))
	}
}

// relName checks name and returns it relative to the top folder, "." for
// the top folder itself.
func (x *extractor) relName(name string) (string, error) {
	if len(name) > maxNameBytes {
		return "", fmt.Errorf("%w: name longer than %d bytes", ErrUnsafeArchive, maxNameBytes)
	}
	if strings.HasPrefix(name, "/") {
		return "", fmt.Errorf("%w: absolute name", ErrUnsafeArchive)
	}
	var parts []string
	for _, p := range strings.Split(name, "/") {
		switch p {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("%w: name leaves the tree", ErrUnsafeArchive)
		}
		if strings.ContainsRune(p, 0) {
			return "", fmt.Errorf("%w: NUL in name", ErrUnsafeArchive)
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("%w: empty name", ErrUnsafeArchive)
	}
	if len(parts) > maxNameDepth {
		return "", fmt.Errorf("%w: nested deeper than %d", ErrUnsafeArchive, maxNameDepth)
	}
	if x.top == "" {
		x.top = parts[0]
	} else if parts[0] != x.top {
		return "", fmt.Errorf("%w: outside the top folder %q", ErrUnsafeArchive, x.top)
	}
	if len(parts) == 1 {
		return ".", nil
	}
	return path.Join(parts[1:]...), nil
}

func (x *extractor) file(hdr *tar.Header, rel string) error {
	if hdr.Size > x.lim.MaxFileBytes {
		return entryErr(hdr.Name, fmt.Errorf("%w: file of %d bytes, more than %d", ErrArchiveTooLarge, hdr.Size, x.lim.MaxFileBytes))
	}
	if dir := path.Dir(rel); dir != "." {
		if err := x.root.MkdirAll(dir, 0o755); err != nil {
			return entryErr(hdr.Name, err)
		}
	}
	mode := os.FileMode(0o644)
	if hdr.Mode&0o111 != 0 {
		mode = 0o755
	}
	// O_EXCL: a second entry of the same name is refused rather than
	// written through whatever the first one left.
	f, err := x.root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return entryErr(hdr.Name, err)
	}
	// The umask may have taken bits off; set the mode on the open file.
	if err := f.Chmod(mode); err != nil {
		f.Close()
		return entryErr(hdr.Name, err)
	}
	n, err := io.Copy(f, io.LimitReader(x.tr, hdr.Size))
	x.written += n
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return entryErr(hdr.Name, err)
	}
	if n != hdr.Size {
		return entryErr(hdr.Name, fmt.Errorf("read archive: %d of %d bytes: %w", n, hdr.Size, io.ErrUnexpectedEOF))
	}
	return nil
}

// cappedReader reads from r and fails with ErrArchiveTooLarge once more
// than left bytes have come.
type cappedReader struct {
	r     io.Reader
	limit int64
	left  int64
	what  string
}

func newCappedReader(r io.Reader, limit int64, what string) *cappedReader {
	return &cappedReader{r: r, limit: limit, left: limit, what: what}
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left < 0 {
		return 0, c.err()
	}
	if int64(len(p)) > c.left+1 {
		p = p[:c.left+1]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	if c.left < 0 {
		return n, c.err()
	}
	return n, err
}

func (c *cappedReader) err() error {
	return fmt.Errorf("%w: %s of more than %d bytes", ErrArchiveTooLarge, c.what, c.limit)
}
