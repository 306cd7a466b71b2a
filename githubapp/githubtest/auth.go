package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v4"
)

// identity is who made a request.
type identity struct {
	app          bool  // App JWT
	installation int64 // installation token's installation
}

var (
	keyOnce sync.Once
	keyVal  *rsa.PrivateKey
	keyErr  error
)

// appKey returns the App's RSA key. One 2048-bit key is generated per test
// process and shared by all servers (generation is slow on a busy machine;
// servers differ in App ID, which JWTs must carry).
func appKey() (*rsa.PrivateKey, error) {
	keyOnce.Do(func() { keyVal, keyErr = rsa.GenerateKey(rand.Reader, 2048) })
	if keyErr != nil {
		return nil, fmt.Errorf("githubtest: generate app key: %w", keyErr)
	}
	return keyVal, nil
}

// PrivateKeyPEM returns the App's private key in PKCS#1 PEM, as GitHub
// hands it out; githubapp.Config.PrivateKey takes it.
func (s *Server) PrivateKeyPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(s.st.key)})
}

// jwtRoutes are the operations authenticated as the App (a JWT) rather
// than as an installation (docs.github.com, "Authenticating as a GitHub
// App").
var jwtRoutes = map[string]bool{
	"/app":               true,
	"/app/installations": true,
	"/app/installations/{installation_id}/access_tokens": true,
	"/repos/{owner}/{repo}/installation":                 true,
}

// authenticate checks the Authorization header; a nil answer lets the call
// through with c.auth set. A missing header or a wrong scheme is a client
// bug and fails the test; an expired or unknown credential is answered 401
// only (it can happen to a correct client).
func (s *Server) authenticate(c *call) *response {
	h := c.req.Header.Get("Authorization")
	scheme, cred, _ := strings.Cut(h, " ")
	if jwtRoutes[c.template] {
		if scheme != "Bearer" || strings.Count(cred, ".") != 2 {
			s.errorf("githubtest: %s %s needs an App JWT (Authorization: Bearer <jwt>), got scheme %q", c.req.Method, c.template, scheme)
			return errorResponse(http.StatusUnauthorized, "A JSON web token could not be decoded")
		}
		if err := s.verifyJWT(cred); err != nil {
			return errorResponse(http.StatusUnauthorized, "invalid JWT: "+err.Error())
		}
		c.auth = identity{app: true}
		return nil
	}
	if (scheme != "token" && scheme != "Bearer") || cred == "" {
		s.errorf("githubtest: %s %s needs an installation token (Authorization: token <t>), got scheme %q", c.req.Method, c.template, scheme)
		return errorResponse(http.StatusUnauthorized, "Requires authentication")
	}
	s.mu.Lock()
	tok, ok := s.st.tokens[cred]
	s.mu.Unlock()
	if !ok || time.Now().After(tok.expires) {
		return errorResponse(http.StatusUnauthorized, "Bad credentials")
	}
	c.auth = identity{installation: tok.installation}
	return nil
}

// verifyJWT checks an App JWT as GitHub does: RS256 signed by the App's
// key, issuer the App ID, issued no later than now (60 s clock drift
// allowed), expiring in the future and at most 10 minutes after issue.
func (s *Server) verifyJWT(raw string) error {
	claims := &jwt.RegisteredClaims{}
	_, err := jwt.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if t.Method != jwt.SigningMethodRS256 {
			return nil, fmt.Errorf("signing method %v is not RS256", t.Header["alg"])
		}
		return &s.st.key.PublicKey, nil
	})
	if err != nil {
		return err
	}
	if claims.Issuer != strconv.FormatInt(s.opts.AppID, 10) {
		return fmt.Errorf("issuer %q is not app ID %d", claims.Issuer, s.opts.AppID)
	}
	if claims.IssuedAt == nil || claims.ExpiresAt == nil {
		return fmt.Errorf("iat and exp are required")
	}
	if claims.IssuedAt.After(time.Now().Add(time.Minute)) {
		return fmt.Errorf("iat is in the future")
	}
	if claims.ExpiresAt.Sub(claims.IssuedAt.Time) > 10*time.Minute {
		return fmt.Errorf("exp is more than 10 minutes after iat")
	}
	return nil
}

type token struct {
	installation int64
	expires      time.Time
}

// newToken mints an installation token ("ghs_" and 36 hex characters, the
// shape of GitHub's installation tokens). Call with s.mu held.
func (s *Server) newToken(installation int64) (string, time.Time) {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	t := "ghs_" + hex.EncodeToString(b)
	exp := time.Now().Add(s.opts.TokenTTL).Truncate(time.Second)
	s.st.tokens[t] = token{installation: installation, expires: exp}
	return t, exp
}

// ExpireTokens makes every installation token issued so far invalid (a
// request carrying one is answered 401).
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.st.tokens {
		t.expires = time.Now().Add(-time.Second)
		s.st.tokens[k] = t
	}
}

// Tokens returns the installation tokens issued so far (so tests can
// check that none leaks into a comment, check run or log).
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, 0, len(s.st.tokens))
	for k := range s.st.tokens {
		out = append(out, k)
	}
	return out
}
