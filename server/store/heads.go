package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Head is the latest known head commit of a pull request and the job that
// diffs it.
type Head struct {
	// Repo is "owner/name"; PR the pull request number.
	Repo string
	PR   int
	// SHA is the head commit.
	SHA string
	// JobID is the queue job diffing SHA (0: none yet).
	JobID int64
	// Updated is when the head was last set.
	Updated time.Time
}

// Head returns the latest head of a pull request, or ErrNotFound.
func (q Queries) Head(ctx context.Context, repo string, pr int) (Head, error) {
	h := Head{Repo: repo, PR: pr}
	err := q.q.queryRow(ctx, `SELECT head_sha, job_id, updated_at FROM pr_heads WHERE repo = $1 AND pr = $2`+q.forUpdate,
		repo, pr).Scan(&h.SHA, &h.JobID, &h.Updated)
	if err != nil {
		return Head{}, fmt.Errorf("store: head of %s#%d: %w", repo, pr, err)
	}
	h.Updated = h.Updated.UTC()
	return h, nil
}

// SetHead makes h the latest head of its pull request and returns the head
// it replaced (zero Head when there was none). Run it in a transaction
// (Store.InTx) so that the read and the write are atomic.
func (q Queries) SetHead(ctx context.Context, h Head) (Head, error) {
	prev, err := q.Head(ctx, h.Repo, h.PR)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return Head{}, err
	}
	updated := h.Updated
	if updated.IsZero() {
		updated = time.Now()
	}
	_, err = q.q.exec(ctx, `INSERT INTO pr_heads (repo, pr, head_sha, job_id, updated_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (repo, pr) DO UPDATE SET head_sha = excluded.head_sha, job_id = excluded.job_id, updated_at = excluded.updated_at`,
		h.Repo, h.PR, h.SHA, h.JobID, updated.UTC())
	if err != nil {
		return Head{}, fmt.Errorf("store: set head of %s#%d: %w", h.Repo, h.PR, err)
	}
	return prev, nil
}
