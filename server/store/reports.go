package store

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Report is one stored diff report of a pull request.
type Report struct {
	// ID is assigned by the store.
	ID int64
	// JobKey names the job that produced the report ("pr-diff:<job id>");
	// saving again with the same key replaces the report instead of adding
	// one, so a job that runs twice stores one report.
	JobKey string
	// Repo is "owner/name".
	Repo string
	// PR is the pull request number.
	PR int
	// HeadSHA and MergeSHA are the commits the report was built from.
	HeadSHA, MergeSHA string
	// Clusters are the names of the clusters the report covers.
	Clusters []string
	// Created is when the report was first saved.
	Created time.Time
	// Body is the Report as JSON.
	Body json.RawMessage
}

const reportColumns = `id, COALESCE(job_key, ''), repo, pr, head_sha, merge_sha, clusters, created_at, body`

// SaveReport stores r and returns its ID. A report with the same non-empty
// JobKey is replaced in place and keeps its ID and creation time.
func (q Queries) SaveReport(ctx context.Context, r Report) (int64, error) {
	if len(r.Body) == 0 || !json.Valid(r.Body) {
		return 0, fmt.Errorf("store: report body is not JSON")
	}
	clusters, err := json.Marshal(nonNil(r.Clusters))
	if err != nil {
		return 0, fmt.Errorf("store: encode clusters: %w", err)
	}
	created := r.Created
	if created.IsZero() {
		created = time.Now()
	}
	var jobKey any
	if r.JobKey != "" {
		jobKey = r.JobKey
	}
	var id int64
	err = q.q.queryRow(ctx, `INSERT INTO reports (job_key, repo, pr, head_sha, merge_sha, clusters, created_at, body)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (job_key) DO UPDATE SET repo = excluded.repo, pr = excluded.pr, head_sha = excluded.head_sha,
	merge_sha = excluded.merge_sha, clusters = excluded.clusters, body = excluded.body
RETURNING id`, jobKey, r.Repo, r.PR, r.HeadSHA, r.MergeSHA, string(clusters), created.UTC(), string(r.Body)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: save report for %s#%d: %w", r.Repo, r.PR, err)
	}
	return id, nil
}

// Report returns the report with the given ID, or ErrNotFound.
func (q Queries) Report(ctx context.Context, id int64) (Report, error) {
	r, err := scanReport(q.q.queryRow(ctx, `SELECT `+reportColumns+` FROM reports WHERE id = $1`, id))
	if err != nil {
		return Report{}, fmt.Errorf("store: report %d: %w", id, err)
	}
	return r, nil
}

// Reports returns the reports of one pull request, oldest first.
func (q Queries) Reports(ctx context.Context, repo string, pr int) ([]Report, error) {
	rs, err := q.q.query(ctx, `SELECT `+reportColumns+` FROM reports WHERE repo = $1 AND pr = $2 ORDER BY id`, repo, pr)
	if err != nil {
		return nil, fmt.Errorf("store: reports of %s#%d: %w", repo, pr, err)
	}
	defer rs.Close()
	var out []Report
	for rs.Next() {
		r, err := scanReport(rs)
		if err != nil {
			return nil, fmt.Errorf("store: reports of %s#%d: %w", repo, pr, err)
		}
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("store: reports of %s#%d: %w", repo, pr, err)
	}
	return out, nil
}

// CountReports returns how many reports the store holds.
func (q Queries) CountReports(ctx context.Context) (int, error) {
	var n int
	if err := q.q.queryRow(ctx, `SELECT COUNT(*) FROM reports`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count reports: %w", err)
	}
	return n, nil
}

func scanReport(r row) (Report, error) {
	var (
		rep            Report
		clusters, body string
	)
	if err := r.Scan(&rep.ID, &rep.JobKey, &rep.Repo, &rep.PR, &rep.HeadSHA, &rep.MergeSHA, &clusters, &rep.Created, &body); err != nil {
		return Report{}, err
	}
	if err := json.Unmarshal([]byte(clusters), &rep.Clusters); err != nil {
		return Report{}, fmt.Errorf("decode clusters: %w", err)
	}
	rep.Created = rep.Created.UTC()
	// PostgreSQL's jsonb reformats the text; compact it so that both
	// backends return the same bytes.
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(body)); err != nil {
		return Report{}, fmt.Errorf("decode body: %w", err)
	}
	rep.Body = b.Bytes()
	return rep, nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
