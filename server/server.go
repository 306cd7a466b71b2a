package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Options configures a Server. Nil integration handlers mean the integration
// is not configured: its routes answer 503 with a message saying so.
type Options struct {
	// Logger receives the access log and errors; required.
	Logger *slog.Logger
	// MaxBodyBytes limits request bodies; zero means 25 MiB.
	MaxBodyBytes int64
	// Checks are the readiness checks behind /readyz.
	Checks []Check
	// Registry collects metrics; nil makes a fresh one.
	Registry *prometheus.Registry

	GitHubWebhook     http.Handler
	SlackCommands     http.Handler
	SlackInteractions http.Handler
}

// Server is fluxdiff's HTTP server.
type Server struct {
	opts    Options
	log     *slog.Logger
	handler http.Handler
}

// New builds the server and its route table.
func New(opts Options) *Server {
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 25 << 20
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
		opts.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	s := &Server{opts: opts, log: opts.Logger}
	s.handler = s.routes()
	return s
}

// Handler returns the root handler (for tests and embedding).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve accepts connections on l until ctx is cancelled, then shuts down
// gracefully, waiting at most shutdownTimeout for requests in flight.
func (s *Server) Serve(ctx context.Context, l net.Listener, shutdownTimeout time.Duration) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(l) }()
	s.log.Info("listening", "addr", l.Addr().String())

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
