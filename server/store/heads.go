package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrNotHead is returned by ClaimPublish when the pull request's head has
// moved to another SHA or job.
var ErrNotHead = errors.New("no longer the head of the pull request")

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
	// PublishedSHA is the head whose report was last published, by the job
	// PublishedJobID (empty and 0: nothing published yet).
	PublishedSHA   string
	PublishedJobID int64
}

// Head returns the latest head of a pull request, or ErrNotFound. In a
// transaction on PostgreSQL it locks the row until the transaction ends.
func (q Queries) Head(ctx context.Context, repo string, pr int) (Head, error) {
	h := Head{Repo: repo, PR: pr}
	err := q.q.queryRow(ctx, `SELECT head_sha, job_id, updated_at, published_sha, published_job_id
FROM pr_heads WHERE repo = $1 AND pr = $2`+q.forUpdate,
		repo, pr).Scan(&h.SHA, &h.JobID, &h.Updated, &h.PublishedSHA, &h.PublishedJobID)
	if err != nil {
		return Head{}, fmt.Errorf("store: head of %s#%d: %w", repo, pr, err)
	}
	h.Updated = h.Updated.UTC()
	return h, nil
}

// LockHead locks the head row of a pull request until the transaction ends
// and returns the head (zero SHA and job when the pull request has none
// yet). Run it in a transaction (Store.InTx). A pull request without a row
// gets an empty one first: SELECT ... FOR UPDATE locks nothing that does not
// exist, and the first two pushes of a new pull request must still wait for
// each other.
func (q Queries) LockHead(ctx context.Context, repo string, pr int) (Head, error) {
	_, err := q.q.exec(ctx, `INSERT INTO pr_heads (repo, pr, head_sha, job_id, updated_at) VALUES ($1, $2, '', 0, $3)
ON CONFLICT (repo, pr) DO NOTHING`, repo, pr, time.Now().UTC())
	if err != nil {
		return Head{}, fmt.Errorf("store: lock head of %s#%d: %w", repo, pr, err)
	}
	return q.Head(ctx, repo, pr)
}

// SetHead makes h the latest head of its pull request and returns the head
// it replaced (zero SHA and job when there was none). Run it in a
// transaction (Store.InTx) so that the read and the write are atomic.
func (q Queries) SetHead(ctx context.Context, h Head) (Head, error) {
	prev, err := q.LockHead(ctx, h.Repo, h.PR)
	if err != nil {
		return Head{}, err
	}
	updated := h.Updated
	if updated.IsZero() {
		updated = time.Now()
	}
	_, err = q.q.exec(ctx, `UPDATE pr_heads SET head_sha = $3, job_id = $4, updated_at = $5 WHERE repo = $1 AND pr = $2`,
		h.Repo, h.PR, h.SHA, h.JobID, updated.UTC())
	if err != nil {
		return Head{}, fmt.Errorf("store: set head of %s#%d: %w", h.Repo, h.PR, err)
	}
	if prev.SHA == "" {
		return Head{}, nil
	}
	return prev, nil
}

// ClaimPublish records that job jobID publishes the report of sha, provided
// sha and jobID are still the head of the pull request; otherwise it
// records nothing and returns ErrNotHead. The check and the record are one
// UPDATE, so a push that moves the head is ordered either before it (the
// claim fails) or after it (and the newer diff claims later). Since a
// successful claim means no newer push exists, no newer report can have been
// published. A pull request without a head row (queued before heads were
// kept) takes this one as its head.
func (q Queries) ClaimPublish(ctx context.Context, repo string, pr int, sha string, jobID int64) error {
	_, err := q.q.exec(ctx, `INSERT INTO pr_heads (repo, pr, head_sha, job_id, updated_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (repo, pr) DO NOTHING`, repo, pr, sha, jobID, time.Now().UTC())
	if err != nil {
		return fmt.Errorf("store: claim publishing of %s#%d: %w", repo, pr, err)
	}
	n, err := q.q.exec(ctx, `UPDATE pr_heads SET published_sha = $3, published_job_id = $4
WHERE repo = $1 AND pr = $2 AND head_sha = $3 AND job_id = $4`, repo, pr, sha, jobID)
	if err != nil {
		return fmt.Errorf("store: claim publishing of %s#%d: %w", repo, pr, err)
	}
	if n == 0 {
		return fmt.Errorf("store: publish %s at %s (job %d): %w", repo, sha, jobID, ErrNotHead)
	}
	return nil
}
