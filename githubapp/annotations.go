package githubapp

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/google/go-github/v55/github"

	"github.com/fluxdiff/fluxdiff/diff"
)

// maxAnnotationsPerRequest is GitHub's limit on annotations in one check
// run create or update ("Annotations are limited to 50 per request").
const maxAnnotationsPerRequest = 50

// maxAnnotationMessage bounds an annotation's message (GitHub: 64 KB).
const maxAnnotationMessage = 60000

// location is a file and line named by a build error, relative to the
// repository root.
type location struct {
	Path string
	Line int
}

// The shapes of file:line in the errors of diff.Build, which come from
// Flux's generator and kustomize (file paths are relative to the source
// root there, except kustomize's "in File:", relative to the folder being
// accumulated):
//
//	failed to decode Kubernetes YAML from apps/a.yaml: MalformedYAMLError: yaml: line 4: ...
//	accumulating resources from 'a.yaml': MalformedYAMLError: yaml: line 5: ... in File: a.yaml
//	recursed accumulation of path 'apps/sub': ... yaml: line 4: ... in File: a.yaml
//	infra/broken.yaml: yaml: line 3: did not find expected key
//	apps/a.yaml:12
var (
	decodeFrom  = regexp.MustCompile(`from ([^\s:'"]+): (?:MalformedYAMLError: )?yaml: line (\d+)`)
	inFile      = regexp.MustCompile(`yaml: line (\d+):.*? in File: ([^\s'"]+)`)
	recursedDir = regexp.MustCompile(`recursed accumulation of path '([^']+)'`)
	fileColon   = regexp.MustCompile(`(?:^|[\s'"(])([^\s:'"()]+\.(?:ya?ml|json)):(?: (?:MalformedYAMLError: )?yaml: line )?(\d+)`)
)

// errorLocations finds the files and lines that msg, the build error of
// the Kustomization whose spec.path is specPath, names. Paths that leave
// the repository are dropped.
func errorLocations(specPath, msg string) []location {
	var out []location
	seen := map[location]bool{}
	add := func(p string, line string) {
		n, err := strconv.Atoi(line)
		p = repoPath(p)
		loc := location{Path: p, Line: n}
		if err != nil || n <= 0 || p == "" || seen[loc] {
			return
		}
		seen[loc] = true
		out = append(out, loc)
	}
	for _, m := range decodeFrom.FindAllStringSubmatch(msg, -1) {
		add(m[1], m[2])
	}
	for _, idx := range inFile.FindAllStringSubmatchIndex(msg, -1) {
		dir := specPath
		if ds := recursedDir.FindAllStringSubmatch(msg[:idx[0]], -1); len(ds) > 0 {
			dir = ds[len(ds)-1][1]
		}
		add(path.Join(dir, msg[idx[4]:idx[5]]), msg[idx[2]:idx[3]])
	}
	if len(out) == 0 {
		for _, m := range fileColon.FindAllStringSubmatch(msg, -1) {
			add(m[1], m[2])
		}
	}
	return out
}

// repoPath cleans p into a path relative to the repository root, or ""
// when it is absolute or leaves the repository.
func repoPath(p string) string {
	if strings.HasPrefix(p, "/") {
		return ""
	}
	p = path.Clean(p)
	if p == "." || p == ".." || strings.HasPrefix(p, "../") {
		return ""
	}
	return p
}

// buildAnnotations turns the Kustomization errors of rep that name a
// file and line into failure annotations on those lines, one per
// location (the first Kustomization naming it wins).
func buildAnnotations(rep *diff.Report) []*github.CheckRunAnnotation {
	var out []*github.CheckRunAnnotation
	seen := map[location]bool{}
	for _, k := range rep.Kustomizations {
		if k.Error == "" {
			continue
		}
		for _, loc := range errorLocations(k.Path, k.Error) {
			if seen[loc] {
				continue
			}
			seen[loc] = true
			title := fmt.Sprintf("Kustomization %s/%s could not be built", k.Namespace, k.Name)
			if k.Cluster != "" {
				title += " (cluster " + k.Where() + ")"
			}
			out = append(out, &github.CheckRunAnnotation{
				Path:            github.String(loc.Path),
				StartLine:       github.Int(loc.Line),
				EndLine:         github.Int(loc.Line),
				AnnotationLevel: github.String("failure"),
				Title:           github.String(title),
				Message:         github.String(truncateRunes(k.Error, maxAnnotationMessage)),
			})
		}
	}
	return out
}

// truncateRunes cuts s to at most n bytes at a rune boundary, marking the
// cut.
func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return splitRunes(s, n-len("…"))[0] + "…"
}
