// Package server is fluxdiff's HTTP front: the chi route table and its
// middleware, health and readiness probes, metrics, and (in later parts) the
// queue, workers, pipeline and store. It knows no GitHub or Slack wire
// formats: integrations hand it plain http.Handlers.
package server
