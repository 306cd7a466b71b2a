package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// demoState is what `fluxdiff demo --keep` leaves for `fluxdiff demo pr`:
// where to send pull requests and the copy of the repository to edit.
type demoState struct {
	Control string `json:"control"`
	Repo    string `json:"repo"`
}

// demoStatePath is where a running `demo --keep` says where it is.
func demoStatePath() string { return filepath.Join(os.TempDir(), "fluxdiff-demo.json") }

// prRequest asks the running demo to open pull request Number (0: the
// next one) with Files (path → content).
type prRequest struct {
	Number int               `json:"number"`
	Files  map[string]string `json:"files"`
}

// serveKeep copies the repository into dir/repo for the person to edit,
// serves pull requests on a loopback port for `fluxdiff demo pr` and
// records both in the state file until ctx ends.
func serveKeep(ctx context.Context, fleet *servertest.Fleet, srv *demoServer, dir string) (repo string, err error) {
	repo = filepath.Join(dir, "repo")
	if err := servertest.WriteTree(repo, fleet.Base); err != nil {
		return "", err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	var mu sync.Mutex
	next := 2
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req prRequest
		if r.Method != http.MethodPost || json.NewDecoder(io.LimitReader(r.Body, 8<<20)).Decode(&req) != nil || len(req.Files) == 0 {
			http.Error(w, "POST a JSON {number, files}", http.StatusBadRequest)
			return
		}
		mu.Lock() // one pull request at a time, in order
		defer mu.Unlock()
		if req.Number == 0 {
			req.Number, next = next, next+1
		}
		pr := servertest.PR{Number: req.Number, Title: "demo pull request", User: "octocat", Changes: map[string][]byte{}}
		for p, c := range req.Files {
			pr.Changes[p] = []byte(c)
		}
		step := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
		if err := sendPR(r.Context(), w, step, fleet, srv, pr); err != nil {
			fmt.Fprintf(w, "error: %v\n", err)
		}
	})}
	go func() { _ = hs.Serve(l) }()
	state, _ := json.Marshal(demoState{Control: "http://" + l.Addr().String(), Repo: repo})
	if err := os.WriteFile(demoStatePath(), state, 0o600); err != nil {
		hs.Close()
		return "", err
	}
	go func() {
		<-ctx.Done()
		hs.Close()
		os.Remove(demoStatePath())
	}()
	return repo, nil
}

func newDemoPRCmd() *cobra.Command {
	var edits []string
	var number int
	cmd := &cobra.Command{
		Use:   "pr --edit FILE [--edit FILE...]",
		Short: "Open a pull request on the running demo (started with --keep)",
		Long: `Open a pull request on a running "fluxdiff demo --keep": edit files in the
copy of the repository it printed, then name them with --edit (relative to
that copy). The demo sends GitHub's signed webhook and this prints the check
run, the sticky comment and the Slack message fluxdiff published. --number
pushes to an existing pull request instead of opening a new one.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := runDemoPR(cmd.Context(), cmd.OutOrStdout(), edits, number); err != nil {
				return &codeError{code: exitError, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringArrayVar(&edits, "edit", nil, "a file of the demo's repository copy to put in the pull request (repeatable)")
	cmd.Flags().IntVar(&number, "number", 0, "push to this pull request instead of opening a new one")
	return cmd
}

func runDemoPR(ctx context.Context, out io.Writer, edits []string, number int) error {
	if len(edits) == 0 {
		return errors.New("name at least one edited file with --edit")
	}
	b, err := os.ReadFile(demoStatePath())
	if err != nil {
		return fmt.Errorf("no demo is running (start one with `fluxdiff demo --keep`): %w", err)
	}
	var st demoState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("%s: %w", demoStatePath(), err)
	}
	req := prRequest{Number: number, Files: map[string]string{}}
	for _, e := range edits {
		rel := e
		if filepath.IsAbs(e) {
			if rel, err = filepath.Rel(st.Repo, e); err != nil {
				return err
			}
		}
		rel = filepath.ToSlash(filepath.Clean(rel))
		if strings.HasPrefix(rel, "../") || rel == ".." {
			return fmt.Errorf("%s is not in the demo's repository copy %s", e, st.Repo)
		}
		content, err := os.ReadFile(filepath.Join(st.Repo, filepath.FromSlash(rel)))
		if err != nil {
			return fmt.Errorf("%w (edit files under %s)", err, st.Repo)
		}
		req.Files[rel] = string(content)
	}
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, st.Control, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(hreq)
	if err != nil {
		return fmt.Errorf("the demo at %s does not answer (is it still running?): %w", st.Control, err)
	}
	defer resp.Body.Close()
	_, err = io.Copy(out, resp.Body)
	return err
}
