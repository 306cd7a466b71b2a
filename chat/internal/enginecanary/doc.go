// Package enginecanary holds one test: a report made by the real diff
// engine on a real API server, from Secrets holding canaries, goes through
// chat to the Slack stand-in, and no canary reaches Slack. It lives apart
// from package chat so that chat's own tests need no API server.
package enginecanary
