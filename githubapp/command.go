package githubapp

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

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
