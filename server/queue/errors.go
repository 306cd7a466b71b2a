package queue

import "errors"

// ErrSuperseded is the cancellation cause of a diff whose head SHA is no
// longer the latest of its pull request.
var ErrSuperseded = errors.New("superseded by a newer push")

// PermanentError marks a failure that retrying cannot fix, such as bad
// input: the job stops instead of retrying.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent reports that the job must not be retried; other packages may
// also mark errors with a `Permanent() bool` method.
func (e *PermanentError) Permanent() bool { return true }

// Permanent wraps err so that the job fails without retrying.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &PermanentError{Err: err}
}

// IsPermanent reports whether err, or an error it wraps, is permanent.
func IsPermanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
