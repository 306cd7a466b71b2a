package server

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/kube"
	"github.com/fluxdiff/fluxdiff/server/queue"
	"github.com/fluxdiff/fluxdiff/server/store"
)

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"apps", "apps", 0}, {"aps", "apps", 1}, {"infra", "infra-configs", 8}, {"kitten", "sitting", 3}, {"é", "e", 1}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestClosestNames(t *testing.T) {
	entries := []*kube.Entry{
		entry("staging", "flux-system", "apps"), entry("production", "flux-system", "apps"),
		entry("staging", "flux-system", "infra-controllers"), entry("staging", "flux-system", "infra-configs"),
		entry("production", "team-a", "apps"), entry("production", "flux-system", "monitoring"),
	}
	tests := []struct {
		want, cluster string
		names         []string
	}{
		{"flux-system/aps", "", []string{"`flux-system/apps`", "`team-a/apps`"}},
		{"flux-system/infra-config", "", []string{"`flux-system/infra-configs`"}},
		{"flux-sytem/apps", "", []string{"`flux-system/apps`", "`team-a/apps`"}},
		{"flux-system/monitorng", "staging", nil},
		{"flux-system/zzzzzzzz", "", nil},
	}
	for _, tt := range tests {
		if d := cmp.Diff(tt.names, closestNames(tt.want, entries, tt.cluster, 3)); d != "" {
			t.Errorf("closestNames(%q, %q) (-want +got):\n%s", tt.want, tt.cluster, d)
		}
	}
}

func TestEntrySource(t *testing.T) {
	a := entry("staging", "flux-system", "apps")
	a.Repo, a.URL, a.Branch = "github.com/acme/fleet", "https://github.com/acme/fleet", "main"
	b := *a
	b.Cluster = "production"
	repo, branch, err := entrySource([]*kube.Entry{a, &b})
	if err != nil || repo != "acme/fleet" || branch != "main" {
		t.Errorf("same source: %q %q %v", repo, branch, err)
	}
	b.Branch = "production"
	var ue *userError
	if _, _, err := entrySource([]*kube.Entry{a, &b}); !errors.As(err, &ue) || !strings.Contains(ue.msg, "pick one with `--cluster`") {
		t.Errorf("different branches: %v", err)
	}
	c := entry("staging", "flux-system", "oci")
	c.Reason = "its source is an OCIRepository"
	if _, _, err := entrySource([]*kube.Entry{c}); !errors.As(err, &ue) || !strings.Contains(ue.msg, "OCIRepository") {
		t.Errorf("no GitRepository: %v", err)
	}
}

// publisherFunc is a queue.Publisher made of a function.
type publisherFunc func() error

func (f publisherFunc) Publish(context.Context, store.Report, queue.Refs) error { return f() }

func TestPublishersTryEveryOneAndRetryUnlessAllArePermanent(t *testing.T) {
	var calls []string
	ok := publisherFunc(func() error { calls = append(calls, "ok"); return nil })
	transient := publisherFunc(func() error { calls = append(calls, "transient"); return errors.New("slack: 500") })
	permanent := publisherFunc(func() error { calls = append(calls, "permanent"); return queue.Permanent(errors.New("bad report")) })

	if err := (Publishers{permanent, transient, ok}).Publish(t.Context(), store.Report{}, nil); err == nil || queue.IsPermanent(err) ||
		!strings.Contains(err.Error(), "bad report") || !strings.Contains(err.Error(), "slack: 500") {
		t.Errorf("mixed: %v (permanent %v), want a retryable error naming both", err, queue.IsPermanent(err))
	}
	if d := cmp.Diff([]string{"permanent", "transient", "ok"}, calls); d != "" {
		t.Errorf("calls (-want +got):\n%s", d)
	}
	if err := (Publishers{permanent, permanent}).Publish(t.Context(), store.Report{}, nil); !queue.IsPermanent(err) {
		t.Errorf("all permanent: %v, want permanent", err)
	}
	if err := (Publishers{ok, ok}).Publish(t.Context(), store.Report{}, nil); err != nil {
		t.Errorf("all fine: %v", err)
	}
}
