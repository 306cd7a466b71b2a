// Package slacke2e holds the end-to-end tests of the Slack front door:
// fluxdiff wired as `fluxdiff serve` wires it, on SQLite, against two real
// API servers bootstrapped from Flux's example repository, the GitHub
// stand-in and the Slack stand-in (chat/chattest). It has no code of its
// own; it is apart from package server so that its control planes start
// only when these tests run.
package slacke2e
