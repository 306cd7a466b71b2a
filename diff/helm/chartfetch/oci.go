package chartfetch

import (
	"context"
	"errors"
	"net/url"
)

// fetchOCI fetches a chart from an OCI HelmRepository or an OCIRepository.
func (f *Fetcher) fetchOCI(_ context.Context, _ Request, _ *url.URL) (*Chart, error) {
	return nil, errors.New("OCI repositories are not supported yet")
}
