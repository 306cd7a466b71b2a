// Package githubapp is fluxdiff's GitHub App: the app (JWT) and installation
// clients, webhook verification and routing, pull request facts, source
// tarballs, and publication of a diff.Report as a check run and a sticky
// pull request comment.
//
// It never imports server, server/store or chat: it takes a *diff.Report
// and the small interfaces declared here (Dispatcher, Refs), which the
// server adapts to its queue and store.
package githubapp
