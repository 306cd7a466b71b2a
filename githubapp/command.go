package githubapp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-github/v55/github"
	"k8s.io/apimachinery/pkg/util/validation"
)

// CommandWord is the first word of a pull request comment that fluxdiff
// acts on.
const CommandWord = "/flux-diff"

// CommandUsage is the reply to "/flux-diff help" and the tail of every
// reply to a command that does not parse.
const CommandUsage = "Usage:\n" +
	"- `/flux-diff` diffs every Flux Kustomization the pull request affects;\n" +
	"- `/flux-diff kustomization NAME [-n NAMESPACE] [--cluster CLUSTER]` (or `ks`) diffs one " +
	"Kustomization (namespace flux-system by default; every cluster by default);\n" +
	"- `/flux-diff help` shows this.\n\n" +
	"Only people with write permission on the repository can ask for a diff."

// Command is a parsed /flux-diff comment.
type Command struct {
	// Help is true for "/flux-diff help".
	Help bool
	// Filter narrows the diff; zero for "/flux-diff".
	Filter Filter
}

// IsCommand reports whether body's first word is exactly /flux-diff (so
// "/flux-diffs" and "please /flux-diff" are not commands).
func IsCommand(body string) bool {
	words := strings.Fields(commandLine(body))
	return len(words) > 0 && words[0] == CommandWord
}

// commandLine returns the first non-blank line of body: later lines are
// free text (a reason, a mention) and are never read.
func commandLine(body string) string {
	for line := range strings.Lines(body) {
		if t := strings.TrimSpace(line); t != "" {
			return t
		}
	}
	return ""
}

// clusterName bounds what a cluster name in a command may contain:
// configured cluster names are plain identifiers.
var clusterName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// ParseCommand parses the first non-blank line of a comment:
//
//	/flux-diff
//	/flux-diff help
//	/flux-diff kustomization|ks NAME [-n|--namespace NS] [--cluster C]
//
// Flags take their value as the next word or after "=". NAME may be
// written NS/NAME instead of using -n. Names are checked as Kubernetes
// names (DNS-1123 subdomain for NAME, label for NS). The error, meant for
// the comment's author, names the problem: an unknown subcommand or flag,
// a missing name or flag value, an extra argument, an invalid name.
func ParseCommand(body string) (Command, error) {
	words := strings.Fields(commandLine(body))
	if len(words) == 0 || words[0] != CommandWord {
		return Command{}, fmt.Errorf("the comment does not start with %s", CommandWord)
	}
	args := words[1:]
	if len(args) == 0 {
		return Command{}, nil
	}
	switch args[0] {
	case "help", "-h", "--help":
		if len(args) > 1 {
			return Command{}, fmt.Errorf("unexpected argument %q after help", args[1])
		}
		return Command{Help: true}, nil
	case "kustomization", "ks":
		f, err := parseKustomization(args[1:])
		return Command{Filter: f}, err
	}
	return Command{}, fmt.Errorf("unknown subcommand %q (want kustomization, ks or help)", args[0])
}

// parseKustomization parses the words after "kustomization".
func parseKustomization(args []string) (Filter, error) {
	var f Filter
	var names []string
	for i := 0; i < len(args); i++ {
		flag, value, hasValue := strings.Cut(args[i], "=")
		if !strings.HasPrefix(flag, "-") {
			names = append(names, args[i])
			continue
		}
		if !hasValue {
			if i+1 >= len(args) || strings.HasPrefix(args[i+1], "-") {
				return Filter{}, fmt.Errorf("flag %s needs a value", flag)
			}
			i++
			value = args[i]
		}
		var err error
		switch flag {
		case "-n", "--namespace":
			err = setOnce(&f.Namespace, flag, value)
		case "--cluster":
			err = setOnce(&f.Cluster, flag, value)
		default:
			err = fmt.Errorf("unknown flag %s (want -n, --namespace or --cluster)", flag)
		}
		if err != nil {
			return Filter{}, err
		}
	}
	switch {
	case len(names) == 0:
		return Filter{}, errors.New("kustomization needs a NAME")
	case len(names) > 1:
		return Filter{}, fmt.Errorf("unexpected argument %q after the name %q", names[1], names[0])
	}
	if ns, name, ok := strings.Cut(names[0], "/"); ok {
		if f.Namespace != "" && f.Namespace != ns {
			return Filter{}, fmt.Errorf("namespace given twice: %q in %q and %q with -n", ns, names[0], f.Namespace)
		}
		f.Namespace, names[0] = ns, name
	}
	f.Kustomization = names[0]
	return f, validateFilter(f)
}

func setOnce(dst *string, flag, value string) error {
	if *dst != "" {
		return fmt.Errorf("flag %s given twice", flag)
	}
	*dst = value
	return nil
}

// validateFilter checks names the way the API server would, so that a
// typo is answered at once instead of as "not found" after a diff.
func validateFilter(f Filter) error {
	if errs := validation.IsDNS1123Subdomain(f.Kustomization); len(errs) > 0 {
		return fmt.Errorf("%q is not a valid Kustomization name: %s", f.Kustomization, errs[0])
	}
	if f.Namespace != "" {
		if errs := validation.IsDNS1123Label(f.Namespace); len(errs) > 0 {
			return fmt.Errorf("%q is not a valid namespace: %s", f.Namespace, errs[0])
		}
	}
	if f.Cluster != "" && !clusterName.MatchString(f.Cluster) {
		return fmt.Errorf("%q is not a valid cluster name (letters, digits, '.', '_' and '-')", f.Cluster)
	}
	return nil
}

// HandleComment checks a /flux-diff comment queued by the webhook and
// turns it into a DiffRequest for the pull request's current head.
//
// It asks GitHub for the author's permission on the repository
// (write, maintain and admin may ask for diffs, since a diff runs the
// pull request's manifests against the clusters). A permitted command
// gets an "eyes" reaction and its DiffRequest (Trigger "issue_comment",
// RequestedBy the author, the command's Filter). Otherwise it answers in
// a comment and returns nil: without permission it says so; "help" gets
// the usage; a command that does not parse gets the problem and the
// usage; a closed pull request is not diffed. Comments of the App's own
// bot, and comments that are not commands, are ignored without a reply.
func (a *App) HandleComment(ctx context.Context, cmd CommentCommand) (*DiffRequest, error) {
	bot, err := a.BotLogin(ctx)
	if err != nil {
		return nil, err
	}
	if strings.EqualFold(cmd.User, bot) || !IsCommand(cmd.Body) {
		return nil, nil
	}
	owner, name, err := splitRepo(cmd.Repo)
	if err != nil {
		return nil, err
	}
	gh, err := a.Installation(cmd.InstallationID)
	if err != nil {
		return nil, err
	}
	c := commenter{gh: gh, owner: owner, name: name, cmd: cmd}
	perm, _, err := gh.Repositories.GetPermissionLevel(ctx, owner, name, cmd.User)
	if err != nil {
		return nil, fmt.Errorf("githubapp: permission of %s on %s: %w", cmd.User, cmd.Repo, err)
	}
	if p := perm.GetPermission(); p != "admin" && p != "write" {
		return nil, c.reply(ctx, fmt.Sprintf("`/flux-diff` needs write permission on %s; you have %s permission.", cmd.Repo, cmp.Or(p, "no")))
	}
	parsed, err := ParseCommand(cmd.Body)
	switch {
	case err != nil:
		return nil, c.reply(ctx, fmt.Sprintf("I could not read that command: %s.\n\n%s", esc(err.Error()), CommandUsage))
	case parsed.Help:
		return nil, c.reply(ctx, CommandUsage)
	}
	pr, _, err := gh.PullRequests.Get(ctx, owner, name, cmd.PR)
	if err != nil {
		return nil, fmt.Errorf("githubapp: get %s#%d: %w", cmd.Repo, cmd.PR, err)
	}
	if pr.GetState() != "open" {
		return nil, c.reply(ctx, "This pull request is closed, so there is nothing to diff.")
	}
	if isFork(pr) && !a.cfg.AllowForks {
		// The same rule as the webhook's: a fork's content is untrusted.
		return nil, c.reply(ctx, "This pull request comes from a fork, and fluxdiff does not diff forks here (`github.allowForks` is off): "+
			"their content would be built and sent to the clusters as dry-runs.")
	}
	if _, _, err := gh.Reactions.CreateIssueCommentReaction(ctx, owner, name, cmd.CommentID, "eyes"); err != nil {
		return nil, fmt.Errorf("githubapp: react to comment %d on %s#%d: %w", cmd.CommentID, cmd.Repo, cmd.PR, err)
	}
	return &DiffRequest{
		DeliveryID:     cmd.DeliveryID,
		InstallationID: cmd.InstallationID,
		Repo:           cmd.Repo,
		PR:             cmd.PR,
		HeadSHA:        pr.GetHead().GetSHA(),
		Trigger:        "issue_comment",
		RequestedBy:    cmd.User,
		Filter:         parsed.Filter,
	}, nil
}

// commenter replies to one command.
type commenter struct {
	gh          *github.Client
	owner, name string
	cmd         CommentCommand
}

// reply comments msg on the command's pull request, addressed to its
// author. A reply never starts with /flux-diff, so it is no command.
func (c commenter) reply(ctx context.Context, msg string) error {
	body := fmt.Sprintf("@%s %s", c.cmd.User, msg)
	_, _, err := c.gh.Issues.CreateComment(ctx, c.owner, c.name, c.cmd.PR, &github.IssueComment{Body: &body})
	if err != nil {
		return fmt.Errorf("githubapp: reply on %s#%d: %w", c.cmd.Repo, c.cmd.PR, err)
	}
	return nil
}
