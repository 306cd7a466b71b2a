// Package chat is fluxdiff's Slack front door: request verification, the
// `/flux-diff` command grammar, Block Kit rendering of a diff.Report,
// interaction (button) parsing, and posting, updating and uploading through
// Slack's Web API.
//
// It never imports githubapp, server or server/store: it takes a
// *diff.Report and the small interfaces declared here (CommandQueue,
// InteractionQueue), which the server adapts to its durable job queue.
package chat
