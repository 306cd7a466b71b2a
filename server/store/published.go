package store

import (
	"context"
	"fmt"
	"time"
)

// Kinds of PublishedRef.
const (
	RefPRComment    = "pr-comment"
	RefCheckRun     = "check-run"
	RefSlackMessage = "slack-message"
)

// PublishedRef records something fluxdiff published and owns, so that it is
// updated in place instead of published a second time.
type PublishedRef struct {
	// Kind is RefPRComment, RefCheckRun or RefSlackMessage.
	Kind string
	// Key identifies the thing within its kind, e.g. "owner/name#12" for the
	// sticky comment of a pull request.
	Key string
	// ExternalID is the ID the other system gave it: a comment or check run
	// ID, or "channel/ts" of a Slack message.
	ExternalID string
	// ReportID is the report last published there (0: none).
	ReportID int64
	// Updated is when the reference was last saved.
	Updated time.Time
}

// PublishedRef returns the reference of kind and key, or ErrNotFound.
func (q Queries) PublishedRef(ctx context.Context, kind, key string) (PublishedRef, error) {
	r := PublishedRef{Kind: kind, Key: key}
	var reportID *int64
	err := q.q.queryRow(ctx, `SELECT external_id, report_id, updated_at FROM published_refs WHERE kind = $1 AND key = $2`,
		kind, key).Scan(&r.ExternalID, &reportID, &r.Updated)
	if err != nil {
		return PublishedRef{}, fmt.Errorf("store: published %s %s: %w", kind, key, err)
	}
	if reportID != nil {
		r.ReportID = *reportID
	}
	r.Updated = r.Updated.UTC()
	return r, nil
}

// SavePublishedRef creates or replaces the reference of r.Kind and r.Key.
func (q Queries) SavePublishedRef(ctx context.Context, r PublishedRef) error {
	var reportID any
	if r.ReportID != 0 {
		reportID = r.ReportID
	}
	updated := r.Updated
	if updated.IsZero() {
		updated = time.Now()
	}
	_, err := q.q.exec(ctx, `INSERT INTO published_refs (kind, key, external_id, report_id, updated_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (kind, key) DO UPDATE SET external_id = excluded.external_id, report_id = excluded.report_id, updated_at = excluded.updated_at`,
		r.Kind, r.Key, r.ExternalID, reportID, updated.UTC())
	if err != nil {
		return fmt.Errorf("store: save published %s %s: %w", r.Kind, r.Key, err)
	}
	return nil
}

// CountPublishedRefs returns how many references the store holds.
func (q Queries) CountPublishedRefs(ctx context.Context) (int, error) {
	var n int
	if err := q.q.queryRow(ctx, `SELECT COUNT(*) FROM published_refs`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count published refs: %w", err)
	}
	return n, nil
}
