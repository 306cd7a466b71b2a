package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/fluxdiff/fluxdiff/diff"
)

// baseRoot checks --base and makes it absolute; "" stays "" (no
// classification).
func baseRoot(dir string) (string, error) {
	if dir == "" {
		return "", nil
	}
	if err := checkFolder("--base", dir); err != nil {
		return "", err
	}
	return filepath.Abs(dir)
}

// printBaseErrors writes one warning per Kustomization whose base build or
// diff failed, so that its changes could not be classified.
func printBaseErrors(w io.Writer, rep *diff.Report) {
	for _, k := range rep.Kustomizations {
		if k.BaseError != "" {
			fmt.Fprintf(w, "warning: Kustomization %s/%s: the base (--base) could not be diffed, so its changes are not told apart from drift: %s\n",
				k.Namespace, k.Name, k.BaseError)
		}
	}
}
