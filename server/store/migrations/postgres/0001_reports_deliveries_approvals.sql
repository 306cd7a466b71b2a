-- Reports, de-duplication keys and the approval audit trail.
CREATE TABLE reports (
	id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repo       TEXT        NOT NULL,
	pr         BIGINT      NOT NULL,
	head_sha   TEXT        NOT NULL,
	merge_sha  TEXT        NOT NULL DEFAULT '',
	clusters   JSONB       NOT NULL DEFAULT '[]',
	created_at TIMESTAMPTZ NOT NULL,
	body       JSONB       NOT NULL
);
CREATE INDEX reports_repo_pr ON reports (repo, pr, id);

CREATE TABLE delivery_keys (
	key        TEXT        PRIMARY KEY,
	created_at TIMESTAMPTZ NOT NULL,
	expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX delivery_keys_expires_at ON delivery_keys (expires_at);

CREATE TABLE approvals (
	id         BIGINT      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	repo       TEXT        NOT NULL,
	pr         BIGINT      NOT NULL,
	head_sha   TEXT        NOT NULL,
	actor      TEXT        NOT NULL,
	source     TEXT        NOT NULL,
	outcome    TEXT        NOT NULL,
	detail     TEXT        NOT NULL DEFAULT '',
	created_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX approvals_repo_pr ON approvals (repo, pr, id);
