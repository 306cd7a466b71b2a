-- One report per job, however often the job runs; the IDs of what fluxdiff
-- published; the latest head SHA of each pull request.
ALTER TABLE reports ADD COLUMN job_key TEXT;
CREATE UNIQUE INDEX reports_job_key ON reports (job_key);

CREATE TABLE published_refs (
	kind        TEXT        NOT NULL,
	key         TEXT        NOT NULL,
	external_id TEXT        NOT NULL,
	report_id   BIGINT      REFERENCES reports (id) ON DELETE SET NULL,
	updated_at  TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (kind, key)
);

CREATE TABLE pr_heads (
	repo       TEXT        NOT NULL,
	pr         BIGINT      NOT NULL,
	head_sha   TEXT        NOT NULL,
	job_id     BIGINT      NOT NULL DEFAULT 0,
	updated_at TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (repo, pr)
);
