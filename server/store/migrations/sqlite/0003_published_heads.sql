-- Which head of each pull request was last published, so that an older diff
-- cannot publish over a newer one.
ALTER TABLE pr_heads ADD COLUMN published_sha TEXT NOT NULL DEFAULT '';
ALTER TABLE pr_heads ADD COLUMN published_job_id INTEGER NOT NULL DEFAULT 0;
