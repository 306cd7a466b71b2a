// Package queue is fluxdiff's durable job queue: river on the store's
// database (riversqlite on SQLite, riverpgxv5 on PostgreSQL, one code path).
//
// Two job kinds do fluxdiff's work: diffing a pull request at a head SHA
// (PRDiffArgs) and running a Slack command (CommandArgs); a third, periodic
// one deletes expired de-duplication keys (PurgeArgs). Enqueueing
// de-duplicates deliveries through the store in the same transaction as the
// job insert, and a newer head SHA of a pull request supersedes the jobs of
// older ones: only the job that is still the pull request's head may
// publish (store.ClaimPublish). Workers call the small Runner, Publisher and
// CommandRunner interfaces declared here; transient errors retry with
// backoff, permanent ones (see Permanent) do not.
package queue
