package githubapp

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v55/github"
)

func TestIsPermanent(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code, Request: &http.Request{}} }
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"a pull request that does not exist", &github.ErrorResponse{Response: resp(404)}, true},
		{"an installation that is gone, wrapped", fmt.Errorf("token: %w", &ghinstallation.HTTPError{Response: resp(404)}), true},
		{"a missing permission", &github.ErrorResponse{Response: resp(403)}, true},
		{"a server error", &github.ErrorResponse{Response: resp(502)}, false},
		{"our rate limit error", &RateLimitError{Status: 403, Reset: time.Now()}, false},
		{"go-github's rate limit error", &github.RateLimitError{Response: resp(403)}, false},
		{"a network error", errors.New("dial tcp: connection refused"), false},
		{"no error", nil, false},
	} {
		if got := IsPermanent(tc.err); got != tc.want {
			t.Errorf("%s: IsPermanent = %v, want %v", tc.name, got, tc.want)
		}
	}
}
