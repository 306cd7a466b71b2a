package githubtest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// call is a routed, validated request.
type call struct {
	req      *http.Request
	path     string // escaped path without PathPrefix
	template string
	params   map[string]string
	query    url.Values
	body     []byte
	input    *openapi3filter.RequestValidationInput
	auth     identity
}

// response is what a handler answers; body is JSON-encoded by encode
// unless raw is set.
type response struct {
	status int
	header http.Header
	value  any // JSON value; nil with raw nil means no body
	body   []byte
}

func (r *response) encode() ([]byte, error) {
	if r.body != nil || r.value == nil {
		return r.body, nil
	}
	return json.Marshal(r.value)
}

// failure is a request the description does not allow.
type failure struct {
	status  int
	message string
}

func (f *failure) response() *response {
	return errorResponse(f.status, f.message)
}

// errorResponse is GitHub's error body: {"message", "documentation_url"}.
func errorResponse(status int, message string) *response {
	return &response{status: status, value: map[string]any{
		"message":           message,
		"documentation_url": "https://docs.github.com/rest",
		"status":            fmt.Sprint(status),
	}}
}

var validationOptions = func() *openapi3filter.Options {
	o := &openapi3filter.Options{
		AuthenticationFunc:                openapi3filter.NoopAuthenticationFunc,
		SkipSettingDefaults:               true,
		RejectWhenRequestBodyNotSpecified: true,
		MultiError:                        true,
	}
	// Name the failing field instead of dumping GitHub's large schemas.
	o.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return "/" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	})
	return o
}()

// route finds the operation of r and validates r against it.
func (s *Server) route(r *http.Request, body []byte) (*call, *failure) {
	path := r.URL.EscapedPath()
	if p := s.opts.PathPrefix; p != "" {
		if !strings.HasPrefix(path, p+"/") {
			return nil, &failure{http.StatusNotFound, "path is outside the API prefix " + p}
		}
		path = strings.TrimPrefix(path, p)
	}
	tmpl, params, ok := s.spec.Routes.Match(path)
	if !ok {
		return nil, &failure{http.StatusNotFound, "no such path in the API description"}
	}
	item := s.spec.Doc.Paths.Value(tmpl)
	op := item.GetOperation(r.Method)
	if op == nil {
		return nil, &failure{http.StatusMethodNotAllowed, "method not in the API description for " + tmpl}
	}
	c := &call{req: r, path: path, template: tmpl, params: params, query: r.URL.Query(), body: body}
	if f := unknownQuery(op, c.query); f != nil {
		return nil, f
	}
	c.input = &openapi3filter.RequestValidationInput{
		Request:    r,
		PathParams: params,
		Route: &routers.Route{
			Spec: s.spec.Doc, Path: tmpl, PathItem: item, Method: r.Method, Operation: op,
		},
		Options: validationOptions,
	}
	if err := openapi3filter.ValidateRequest(s.ctx(), c.input); err != nil {
		return nil, &failure{http.StatusUnprocessableEntity, "request does not conform: " + err.Error()}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return c, nil
}

// unknownQuery refuses query parameters the operation does not declare
// (openapi3filter ignores them; GitHub ignores them too, but a client
// sending one has a bug).
func unknownQuery(op *openapi3.Operation, q url.Values) *failure {
	known := map[string]bool{}
	for _, p := range op.Parameters {
		if p.Value != nil && p.Value.In == "query" {
			known[p.Value.Name] = true
		}
	}
	var extra []string
	for k := range q {
		if !known[k] {
			extra = append(extra, k)
		}
	}
	if len(extra) == 0 {
		return nil
	}
	sort.Strings(extra)
	return &failure{http.StatusUnprocessableEntity, "query parameters not in the API description: " + strings.Join(extra, ", ")}
}

// validateResponse checks an answer against the operation's responses.
// Statuses the stand-in answers with on its own (401, 404, 422 on bad
// requests) need not be listed for the operation; success statuses must.
func (s *Server) validateResponse(c *call, resp *response) error {
	opts := *validationOptions
	opts.IncludeResponseStatus = resp.status < 400
	h := http.Header{}
	for k, v := range resp.header {
		h[k] = v
	}
	if resp.body != nil && h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json; charset=utf-8")
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: c.input,
		Status:                 resp.status,
		Header:                 h,
		Options:                &opts,
	}
	in.SetBodyBytes(resp.body)
	return openapi3filter.ValidateResponse(s.ctx(), in)
}
