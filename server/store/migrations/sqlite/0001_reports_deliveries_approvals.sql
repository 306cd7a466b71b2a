-- Reports, de-duplication keys and the approval audit trail.
CREATE TABLE reports (
	id         INTEGER PRIMARY KEY,
	repo       TEXT      NOT NULL,
	pr         INTEGER   NOT NULL,
	head_sha   TEXT      NOT NULL,
	merge_sha  TEXT      NOT NULL DEFAULT '',
	clusters   TEXT      NOT NULL DEFAULT '[]',
	created_at TIMESTAMP NOT NULL,
	body       TEXT      NOT NULL
);
CREATE INDEX reports_repo_pr ON reports (repo, pr, id);

CREATE TABLE delivery_keys (
	key        TEXT      PRIMARY KEY,
	created_at TIMESTAMP NOT NULL,
	expires_at TIMESTAMP NOT NULL
);
CREATE INDEX delivery_keys_expires_at ON delivery_keys (expires_at);

CREATE TABLE approvals (
	id         INTEGER PRIMARY KEY,
	repo       TEXT      NOT NULL,
	pr         INTEGER   NOT NULL,
	head_sha   TEXT      NOT NULL,
	actor      TEXT      NOT NULL,
	source     TEXT      NOT NULL,
	outcome    TEXT      NOT NULL,
	detail     TEXT      NOT NULL DEFAULT '',
	created_at TIMESTAMP NOT NULL
);
CREATE INDEX approvals_repo_pr ON approvals (repo, pr, id);
