package store

import (
	"context"
	"fmt"
	"time"
)

// Approval is one entry of the approval audit trail: who approved (or tried
// to approve) which pull request at which SHA, when, and what came of it.
type Approval struct {
	// ID is assigned by the store.
	ID int64
	// Repo is "owner/name"; PR the pull request number.
	Repo string
	PR   int
	// HeadSHA is the commit the approval was for.
	HeadSHA string
	// Actor identifies the person, e.g. "slack:U123" or "github:octocat".
	Actor string
	// Source is where the approval came from, e.g. "slack".
	Source string
	// Outcome is what happened, e.g. "approved", "denied", "stale-sha".
	Outcome string
	// Detail explains the outcome for people.
	Detail string
	// At is when it happened.
	At time.Time
}

// RecordApproval appends a to the audit trail and returns its ID.
func (q Queries) RecordApproval(ctx context.Context, a Approval) (int64, error) {
	at := a.At
	if at.IsZero() {
		at = time.Now()
	}
	var id int64
	err := q.q.queryRow(ctx, `INSERT INTO approvals (repo, pr, head_sha, actor, source, outcome, detail, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		a.Repo, a.PR, a.HeadSHA, a.Actor, a.Source, a.Outcome, a.Detail, at.UTC()).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: record approval of %s#%d: %w", a.Repo, a.PR, err)
	}
	return id, nil
}

// Approvals returns the audit trail of one pull request, oldest first.
func (q Queries) Approvals(ctx context.Context, repo string, pr int) ([]Approval, error) {
	rs, err := q.q.query(ctx, `SELECT id, repo, pr, head_sha, actor, source, outcome, detail, created_at
FROM approvals WHERE repo = $1 AND pr = $2 ORDER BY id`, repo, pr)
	if err != nil {
		return nil, fmt.Errorf("store: approvals of %s#%d: %w", repo, pr, err)
	}
	defer rs.Close()
	var out []Approval
	for rs.Next() {
		var a Approval
		if err := rs.Scan(&a.ID, &a.Repo, &a.PR, &a.HeadSHA, &a.Actor, &a.Source, &a.Outcome, &a.Detail, &a.At); err != nil {
			return nil, fmt.Errorf("store: approvals of %s#%d: %w", repo, pr, err)
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: approvals of %s#%d: %w", repo, pr, err)
	}
	return out, nil
}
