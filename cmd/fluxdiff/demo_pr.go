package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/fluxdiff/fluxdiff/chat/chattest"

	"github.com/fluxdiff/fluxdiff/server/servertest"
)

// demoPullRequest opens the demo's pull request on the stand-in: a new
// redis tag in the shared apps/base/podinfo (both clusters) and one more
// replica in the staging overlay (staging only). It sends GitHub's signed
// pull_request.opened delivery and prints what fluxdiff published.
func demoPullRequest(ctx context.Context, out io.Writer, step func(string, ...any), fleet *servertest.Fleet, srv *demoServer) error {
	const release, values = "apps/base/podinfo/release.yaml", "apps/staging/podinfo-values.yaml"
	changes := map[string][]byte{}
	for path, edit := range map[string][2]string{
		release: {"tag: 7.0.6", "tag: 7.2.4"},
		values:  {"  values:\n", "  values:\n    replicaCount: 2\n"},
	} {
		b, err := servertest.Edit(fleet.Base, path, edit[0], edit[1])
		if err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		changes[path] = b
	}
	pr := servertest.PR{Number: 1, Title: "podinfo: redis 7.2.4, two replicas on staging", User: "octocat", Changes: changes}
	return sendPR(ctx, out, step, fleet, srv, pr)
}

// sendPR opens (or pushes to) pr on the stand-in, sends GitHub's signed
// pull_request delivery, waits for fluxdiff's check run and prints it, the
// sticky comment and the Slack message.
func sendPR(ctx context.Context, out io.Writer, step func(string, ...any), fleet *servertest.Fleet, srv *demoServer, pr servertest.PR) error {
	action := "opened"
	if len(fleet.GitHub.Comments(servertest.Repo, pr.Number)) > 0 {
		action = "synchronize"
	}
	head := fleet.Open(pr)
	paths := make([]string, 0, len(pr.Changes))
	for p := range pr.Changes {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	step("pull request #%d on %s (head %s) changes %s", pr.Number, servertest.Repo, head[:7], strings.Join(paths, ", "))
	payload, err := fleet.Payload("pull_request."+action+".1.json", pr.Number, head)
	if err != nil {
		return err
	}
	delivery := fmt.Sprintf("demo-%d-%s", pr.Number, head[:7])
	code, err := servertest.Send(ctx, srv.url+"/webhooks/github", demoWebhookSecret, "pull_request", delivery, payload)
	if err != nil || code != 202 {
		return fmt.Errorf("webhook delivery: status %d, %v", code, err)
	}
	step("sent the signed pull_request.%s webhook; fluxdiff answered %d and is diffing", action, code)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	cr, err := fleet.WaitCheck(wctx, head, "fluxdiff")
	if err != nil {
		return err
	}
	step("check run %q completed: %s", cr.Name, cr.Conclusion)
	fmt.Fprintf(out, "\n===== check run: %s =====\n%s\n", cr.Output.Title, cr.Output.Summary)
	for _, c := range fleet.GitHub.Comments(servertest.Repo, pr.Number) {
		fmt.Fprintf(out, "\n===== pull request comment by %s =====\n%s\n", c.User, c.Body)
	}
	return printSlack(ctx, out, srv, pr.Number)
}

// blockTexts is the text of each top-level block of a Block Kit message,
// in order: a section's text and fields, a header's text, a context's
// elements, and an actions block's button labels on one line. Buttons'
// confirm dialogs are left out. Blocks whose text repeats (the same diff in
// two clusters) are all kept.
func blockTexts(raw []byte) []string {
	var blocks []struct {
		Type   string                  `json:"type"`
		Text   *struct{ Text string }  `json:"text"`
		Fields []struct{ Text string } `json:"fields"`
		Elems  []struct {
			Type string `json:"type"`
			Text any    `json:"text"`
		} `json:"elements"`
	}
	if json.Unmarshal(raw, &blocks) != nil {
		return []string{"(the message's blocks could not be read)"}
	}
	var out []string
	for _, b := range blocks {
		if b.Text != nil {
			out = append(out, b.Text.Text)
		}
		for _, f := range b.Fields {
			out = append(out, f.Text)
		}
		var labels []string
		for _, e := range b.Elems {
			switch t := e.Text.(type) {
			case string:
				out = append(out, t)
			case map[string]any:
				if l, ok := t["text"].(string); ok {
					labels = append(labels, "["+l+"]")
				}
			}
		}
		if len(labels) > 0 {
			out = append(out, strings.Join(labels, " "))
		}
	}
	return out
}

// printSlack prints the text of the message fluxdiff posted to the Slack
// stand-in's channel, waiting a little for it: the Slack publisher runs
// after GitHub's.
func printSlack(ctx context.Context, out io.Writer, srv *demoServer, number int) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		if msgs := prMessages(srv, number); len(msgs) > 0 {
			fmt.Fprintf(out, "\n===== Slack message in %s (Block Kit, as text; buttons: Post diff to PR, Approve PR, View PR) =====\n", demoChannel)
			for _, t := range blockTexts(msgs[0].Blocks) {
				fmt.Fprintln(out, t)
			}
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no Slack message was posted to %s", demoChannel)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// prMessages are the Slack messages about pull request number.
func prMessages(srv *demoServer, number int) []chattest.Message {
	var out []chattest.Message
	for _, m := range srv.slack.Messages(demoChannel) {
		if m.ThreadTS == "" && regexp.MustCompile(fmt.Sprintf(`#%d\b`, number)).MatchString(strings.Join(m.BlockTexts(), "\n")) {
			out = append(out, m)
		}
	}
	return out
}

func printKeep(out io.Writer, fleet *servertest.Fleet, srv *demoServer, dir, repo string) {
	fmt.Fprintf(out, "\nEverything keeps running (Ctrl-C stops it and removes nothing from %s):\n", dir)
	fmt.Fprintf(out, "  fluxdiff:       %s  (config %s, log %s)\n", srv.url, srv.configPath, srv.logPath)
	fmt.Fprintf(out, "  GitHub stand-in: %s\n", fleet.GitHub.URL())
	fmt.Fprintf(out, "  Helm repository: %s  (podinfo HelmRepository's spec.url)\n", srv.charts)
	for _, name := range fleet.Names {
		fmt.Fprintf(out, "  cluster %-10s kubectl --kubeconfig %s/%s/kubeconfig get kustomizations -A\n", name, dir, name)
	}
	fmt.Fprintf(out, "\nMore pull requests: edit files under %s, then, in another terminal,\n", repo)
	fmt.Fprintf(out, "  go run ./cmd/fluxdiff demo pr --edit apps/base/podinfo/release.yaml   (--number N pushes to pull request N)\n")
}
