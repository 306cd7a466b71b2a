package githubapp

import (
	"errors"
	"net/http"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v55/github"
)

// IsPermanent reports whether err is GitHub refusing for good, so that
// asking again cannot help: the installation, repository or pull request
// does not exist or the App may not see it (401, 403 that is not a rate
// limit, 404, 410), or the request is invalid (422). Rate limits, 5xx and
// network errors are not permanent.
func IsPermanent(err error) bool {
	var rl *RateLimitError
	var ghrl *github.RateLimitError
	var abuse *github.AbuseRateLimitError
	if errors.As(err, &rl) || errors.As(err, &ghrl) || errors.As(err, &abuse) {
		return false
	}
	var status int
	var er *github.ErrorResponse
	var he *ghinstallation.HTTPError
	switch {
	case errors.As(err, &er) && er.Response != nil:
		status = er.Response.StatusCode
	case errors.As(err, &he) && he.Response != nil:
		status = he.Response.StatusCode
	}
	switch status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusNotFound, http.StatusGone, http.StatusUnprocessableEntity:
		return true
	}
	return false
}
