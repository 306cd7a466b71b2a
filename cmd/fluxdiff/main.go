// Command fluxdiff shows, on every pull request, what merging it would change
// in each Kubernetes cluster that Flux reconciles from the repository.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes shared by every subcommand.
const (
	exitOK      = 0
	exitChanges = 1 // diff: something would change
	exitError   = 2 // bad input, configuration or a failed run
)

// codeError carries a specific exit code out of a command.
type codeError struct {
	code int
	err  error
}

func (e *codeError) Error() string { return e.err.Error() }
func (e *codeError) Unwrap() error { return e.err }

func main() {
	root := newRootCmd()
	err := root.Execute()
	os.Exit(exitCode(err))
}

func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ce *codeError
	if errors.As(err, &ce) {
		if ce.err != nil {
			fmt.Fprintln(os.Stderr, "error:", ce.err)
		}
		return ce.code
	}
	fmt.Fprintln(os.Stderr, "error:", err)
	return exitError
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "fluxdiff",
		Short: "Show what a pull request changes in the clusters Flux reconciles",
		Long: `fluxdiff shows what merging a pull request would change in each Kubernetes
cluster that Flux reconciles from the repository. It builds the affected Flux
Kustomizations the way kustomize-controller does and diffs them against the
live clusters with a server-side dry-run.

Run it as a GitHub App webhook server (fluxdiff serve) or locally against your
current kubeconfig context.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newDiffCmd(), newIndexCmd(), newDemoCmd(), newVersionCmd())
	return root
}
