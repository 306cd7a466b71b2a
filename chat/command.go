package chat

import (
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// DefaultNamespace is the namespace of a Kustomization named without -n,
// as for `flux diff kustomization`.
const DefaultNamespace = "flux-system"

// CommandName is the slash command fluxdiff answers to.
const CommandName = "/flux-diff"

// Usage is the help text of the command, as Slack mrkdwn.
const Usage = "*Usage*\n" +
	"`/flux-diff kustomization|ks NAME [-n|--namespace NS] [--path PATH] [--github-ref REF] [--cluster CLUSTER]`\n" +
	"`/flux-diff help`\n\n" +
	"Diffs the Flux Kustomization NAME (namespace NS, default `flux-system`) against the live cluster, " +
	"as kustomize-controller would apply it.\n" +
	"• `--github-ref REF`: a pull request number (`12`), a pull request URL, or a branch " +
	"(its open pull request, else its head). Without it, the Kustomization's own source branch is diffed (a drift check).\n" +
	"• `--path PATH`: build this folder instead of the Kustomization's `spec.path`.\n" +
	"• `--cluster CLUSTER`: only this cluster (default: every cluster that has the Kustomization)."

// Command is a parsed `/flux-diff` command.
type Command struct {
	// Help is set for `/flux-diff help` (and an empty command); the other
	// fields are then empty.
	Help bool
	// Name is the Kustomization's metadata.name; Namespace its namespace
	// (DefaultNamespace unless -n was given).
	Name      string
	Namespace string
	// Path replaces spec.path when not empty; cleaned, relative.
	Path string
	// Cluster limits the diff to one configured cluster when not empty.
	Cluster string
	// Ref is what to diff; nil means the Kustomization's source branch head.
	Ref *Ref
}

// RefKind says how a --github-ref was written.
type RefKind string

// The kinds of Ref.
const (
	// RefNumber: a pull request number ("12" or "#12") in the
	// Kustomization's repository.
	RefNumber RefKind = "number"
	// RefURL: a pull request URL, https://HOST/OWNER/REPO/pull/NUMBER.
	RefURL RefKind = "url"
	// RefBranch: a branch name; its open pull request, else its head.
	RefBranch RefKind = "branch"
)

// Ref is a parsed --github-ref.
type Ref struct {
	Kind RefKind
	// Number is the pull request number (RefNumber, RefURL).
	Number int
	// Host and Repo ("owner/name") come from a pull request URL.
	Host string
	Repo string
	// Branch is the branch name, without "refs/heads/" (RefBranch).
	Branch string
	// Raw is the REF as given.
	Raw string
}

// UsageError is a mistake in a command. Its message names the problem;
// show it with Usage.
type UsageError struct {
	Problem string
}

func (e *UsageError) Error() string { return e.Problem }

func usageErr(format string, args ...any) error {
	return &UsageError{Problem: fmt.Sprintf(format, args...)}
}

// ParseCommand parses the text that followed `/flux-diff`, as Slack sends
// it (links may come as <URL> or <URL|label>, &, < and > as HTML entities;
// values may be quoted). Mistakes are *UsageError.
func ParseCommand(text string) (Command, error) {
	args, err := splitArgs(unescapeSlack(text))
	if err != nil {
		return Command{}, err
	}
	if len(args) == 0 {
		return Command{Help: true}, nil
	}
	switch sub := args[0]; sub {
	case "help", "-h", "--help":
		if len(args) > 1 {
			return Command{}, usageErr("unexpected argument %q after help", args[1])
		}
		return Command{Help: true}, nil
	case "kustomization", "ks":
		return parseKustomization(args[1:])
	default:
		return Command{}, usageErr("unknown subcommand %q: use kustomization (ks) or help", sub)
	}
}

// flagNames maps every spelling of a flag to its canonical name.
var flagNames = map[string]string{
	"-n": "--namespace", "--namespace": "--namespace",
	"--path": "--path", "--github-ref": "--github-ref", "--cluster": "--cluster",
}

func parseKustomization(args []string) (Command, error) {
	vals := map[string]string{}
	var names []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-h" || a == "--help" {
			return Command{Help: true}, nil
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			names = append(names, a)
			continue
		}
		spelled, val, inline := strings.Cut(a, "=")
		flag, ok := flagNames[spelled]
		if !ok {
			return Command{}, usageErr("unknown flag %q", spelled)
		}
		if !inline {
			if i+1 >= len(args) {
				return Command{}, usageErr("flag %s needs a value", spelled)
			}
			i++
			val = args[i]
		}
		if _, dup := vals[flag]; dup {
			return Command{}, usageErr("flag %s is given twice", flag)
		}
		if val == "" {
			return Command{}, usageErr("flag %s needs a value", spelled)
		}
		vals[flag] = val
	}
	switch {
	case len(names) == 0:
		return Command{}, usageErr("missing Kustomization name")
	case len(names) > 1:
		return Command{}, usageErr("unexpected argument %q: give one Kustomization name", names[1])
	}
	return buildCommand(names[0], vals)
}

func buildCommand(name string, vals map[string]string) (Command, error) {
	c := Command{Name: name, Namespace: DefaultNamespace, Cluster: vals["--cluster"]}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return Command{}, usageErr("%q is not a valid Kustomization name: %s", name, errs[0])
	}
	if ns, ok := vals["--namespace"]; ok {
		if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
			return Command{}, usageErr("%q is not a valid namespace: %s", ns, errs[0])
		}
		c.Namespace = ns
	}
	if p, ok := vals["--path"]; ok {
		clean, err := cleanPath(p)
		if err != nil {
			return Command{}, err
		}
		c.Path = clean
	}
	if raw, ok := vals["--github-ref"]; ok {
		ref, err := ParseRef(raw)
		if err != nil {
			return Command{}, err
		}
		c.Ref = &ref
	}
	return c, nil
}

// cleanPath returns p as a clean path relative to the repository root
// ("./apps/x" → "apps/x"); a path leaving the root is a mistake.
func cleanPath(p string) (string, error) {
	clean := path.Clean("/" + strings.TrimPrefix(p, "./"))
	if strings.HasPrefix(p, "/") || strings.Contains("/"+p+"/", "/../") {
		return "", usageErr("path %q must stay inside the repository (relative, no ..)", p)
	}
	if clean == "/" {
		return ".", nil
	}
	return strings.TrimPrefix(clean, "/"), nil
}

// ParseRef parses a --github-ref value: a pull request number ("12",
// "#12"; digits are always a number, never a branch), a pull request URL
// (https://HOST/OWNER/REPO/pull/NUMBER; a path prefix before OWNER and a
// trailing path such as /files are ignored) or a branch name (git
// check-ref-format rules; "refs/heads/" is dropped). Mistakes are
// *UsageError.
func ParseRef(raw string) (Ref, error) {
	s := strings.TrimSpace(raw)
	if n, ok := prNumber(strings.TrimPrefix(s, "#")); ok {
		return Ref{Kind: RefNumber, Number: n, Raw: raw}, nil
	}
	if digits := strings.TrimPrefix(s, "#"); strings.HasPrefix(s, "#") || (digits != "" && strings.Trim(digits, "0123456789") == "") {
		return Ref{}, usageErr("--github-ref %q is not a pull request number", raw)
	}
	if strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") {
		return parsePRURL(s, raw)
	}
	b := strings.TrimPrefix(s, "refs/heads/")
	if problem := branchProblem(b); problem != "" {
		return Ref{}, usageErr("--github-ref %q is neither a pull request number, a pull request URL nor a branch name (%s)", raw, problem)
	}
	return Ref{Kind: RefBranch, Branch: b, Raw: raw}, nil
}

func prNumber(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

func parsePRURL(s, raw string) (Ref, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return Ref{}, usageErr("--github-ref %q is not a valid URL", raw)
	}
	// OWNER/REPO/pull/NUMBER, after any path prefix of the host.
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	i := slices.Index(parts, "pull")
	if i < 2 || i+1 >= len(parts) || parts[i-2] == "" || parts[i-1] == "" {
		return Ref{}, usageErr("--github-ref %q is not a pull request URL (https://HOST/OWNER/REPO/pull/NUMBER)", raw)
	}
	n, ok := prNumber(parts[i+1])
	if !ok {
		return Ref{}, usageErr("--github-ref %q is not a pull request URL: %q is not a pull request number", raw, parts[i+1])
	}
	return Ref{Kind: RefURL, Number: n, Host: strings.ToLower(u.Host), Repo: parts[i-2] + "/" + parts[i-1], Raw: raw}, nil
}

// branchProblem returns why b is not a valid branch name under
// git-check-ref-format(1), or "".
func branchProblem(b string) string {
	switch {
	case b == "":
		return "empty"
	case strings.HasPrefix(b, "-"):
		return "starts with -"
	case strings.HasPrefix(b, "/") || strings.HasSuffix(b, "/"), strings.Contains(b, "//"):
		return "empty path component"
	case strings.HasSuffix(b, ".") || strings.HasSuffix(b, ".lock"):
		return "ends with . or .lock"
	case strings.Contains(b, ".."), strings.Contains(b, "@{"), b == "@":
		return "contains .. or @{"
	case strings.Contains(b, "/."), strings.HasPrefix(b, "."):
		return "a component starts with ."
	}
	for _, r := range b {
		if r < 0x20 || r == 0x7f || strings.ContainsRune(" ~^:?*[\\", r) {
			return fmt.Sprintf("contains %q", r)
		}
	}
	return ""
}

// String renders c canonically, e.g. "/flux-diff ks apps -n flux-system
// --github-ref 12".
func (c Command) String() string {
	if c.Help {
		return CommandName + " help"
	}
	parts := []string{CommandName, "ks", c.Name, "-n", c.Namespace}
	if c.Path != "" {
		parts = append(parts, "--path", c.Path)
	}
	if c.Ref != nil {
		parts = append(parts, "--github-ref", c.Ref.Raw)
	}
	if c.Cluster != "" {
		parts = append(parts, "--cluster", c.Cluster)
	}
	return strings.Join(parts, " ")
}
