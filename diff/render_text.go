package diff

import (
	"fmt"
	"io"
	"strings"
)

// WriteText renders r for a terminal, like `flux diff kustomization`: the
// blast radius and risk flags first, then a header per Kustomization, then "► Kind/namespace/name action" per object
// that would change, each followed by its diff.
func WriteText(w io.Writer, r *Report) error {
	tw := &textWriter{w: w}
	writeRiskText(tw, r)
	for i, k := range r.Kustomizations {
		if i > 0 {
			tw.line("")
		}
		tw.line("Kustomization %s/%s%s (path %s)", k.Namespace, k.Name, clusterSuffix(k.Where()), k.Path)
		if k.Error != "" {
			tw.line("✗ %s", k.Error)
			continue
		}
		writeTextChanges(tw, k)
		for _, wmsg := range k.Warnings {
			tw.line("! %s", wmsg)
		}
		tw.line("%s", countsLine(k.Counts))
		if k.Classes != nil {
			tw.line("by class: %s", k.Classes)
		}
		writeHelmText(tw, k)
	}
	return tw.err
}

type textWriter struct {
	w   io.Writer
	err error
}

func (t *textWriter) line(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format+"\n", args...)
	}
}

func clusterSuffix(cluster string) string {
	if cluster == "" {
		return ""
	}
	return " on " + cluster
}

func reasonSuffix(c Change) string {
	if c.Reason == "" {
		return ""
	}
	return " (" + c.Reason + ")"
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// countsLine is "1 created, 2 configured, ..." listing non-zero actions, or
// "no changes".
func countsLine(c Counts) string {
	var parts []string
	for _, a := range Actions {
		if n := c.Of(a); n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, a))
		}
	}
	if len(parts) == 0 {
		return "no objects"
	}
	if c.Created+c.Configured+c.Deleted == 0 {
		return "no changes (" + strings.Join(parts, ", ") + ")"
	}
	return strings.Join(parts, ", ")
}
