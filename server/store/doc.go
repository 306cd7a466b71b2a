// Package store is fluxdiff's durable state: reports, de-duplication keys
// for webhook deliveries and Slack requests, the approval audit trail, the
// IDs of the messages and comments fluxdiff owns, and the latest head SHA of
// each pull request.
//
// One Store type serves two backends chosen by URL: an embedded SQLite file
// (sqlite:///abs/path.db or sqlite://./rel/path.db, pure Go, WAL) and
// PostgreSQL (postgres://... or postgresql://...) for several replicas. The
// queries are shared; only the schema migrations and the connection differ.
// Versioned migrations are embedded and applied in one transaction by Open.
//
// The queue (server/queue) runs river on the same database and inserts its
// jobs in the transactions of this package (see Tx.Raw).
package store
