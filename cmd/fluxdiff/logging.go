package main

import (
	"io"
	"log/slog"
)

// newLogger builds the one JSON logger that the whole process uses.
func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level)) // validated by config.Load
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}
