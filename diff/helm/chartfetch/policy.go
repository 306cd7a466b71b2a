package chartfetch

import (
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// RefusedError is a fetch that fluxdiff refused to make because it would
// have reached a host or an address the configuration does not allow: a
// pull request must not turn fluxdiff into a proxy into the cluster's
// network (issue #13). Nothing was sent to URL. The report shows it as a
// row: Error() is a complete sentence without credentials.
type RefusedError struct {
	// URL is the refused URL, without user information.
	URL string
	// Reason says why, e.g. "host evil.example is not on helm.allowedHosts"
	// or "127.0.0.1 is a loopback address".
	Reason string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("refused to fetch %s: %s", e.URL, e.Reason)
}

// addrRefusal is what the dialer's Control hook returns for a resolved
// address that is not allowed; the guard transport turns it into a
// RefusedError naming the URL.
type addrRefusal struct{ reason string }

func (e *addrRefusal) Error() string { return e.reason }

// policy decides which hosts and addresses may be contacted.
type policy struct {
	hosts        []string // lower-case names; "*.example.com" matches below example.com
	allowPrivate bool
	cidrs        []netip.Prefix
}

// special address ranges that no public chart repository lives in. Each
// entry names the range in the refusal.
var specialRanges = []struct {
	prefix  netip.Prefix
	what    string
	private bool // allowed by AllowPrivateNetworks (others need a CIDR)
}{
	{netip.MustParsePrefix("169.254.169.254/32"), "the cloud instance metadata address", false},
	{netip.MustParsePrefix("0.0.0.0/8"), "a \"this network\" address (RFC 791)", false},
	{netip.MustParsePrefix("100.64.0.0/10"), "a carrier-grade NAT address (RFC 6598)", true},
	{netip.MustParsePrefix("192.0.0.0/24"), "an IETF protocol assignment address (RFC 6890)", true},
	{netip.MustParsePrefix("198.18.0.0/15"), "a benchmarking address (RFC 2544)", true},
	{netip.MustParsePrefix("240.0.0.0/4"), "a reserved address (RFC 1112)", false},
}

// nat64 embeds an IPv4 address in its last 32 bits (RFC 6052).
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// classify names the kind of a non-public address and whether
// AllowPrivateNetworks covers it; "" means a public address.
func classify(a netip.Addr) (what string, private bool) {
	a = a.Unmap()
	for _, r := range specialRanges {
		if r.prefix.Contains(a) {
			return r.what, r.private
		}
	}
	switch {
	case a.IsUnspecified():
		return "an unspecified address", false
	case a.IsLoopback():
		return "a loopback address", false
	case a.IsLinkLocalUnicast():
		return "a link-local address", false
	case a.IsMulticast():
		return "a multicast address", false
	case a.IsPrivate() && a.Is4():
		return "a private address (RFC 1918)", true
	case a.IsPrivate():
		return "a unique local address (RFC 4193)", true
	case a.Is4() && a == netip.AddrFrom4([4]byte{255, 255, 255, 255}):
		return "the broadcast address", false
	case nat64.Contains(a):
		b := a.As16()
		if what, private := classify(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]})); what != "" {
			return "a NAT64 form of " + what, private
		}
	}
	return "", false
}

// checkAddr returns a refusal reason for a, or "" when a may be contacted.
func (p *policy) checkAddr(a netip.Addr) string {
	a = a.Unmap()
	for _, c := range p.cidrs {
		if c.Contains(a) {
			return ""
		}
	}
	what, private := classify(a)
	if what == "" || (private && p.allowPrivate) {
		return ""
	}
	hint := "helm.allowedCIDRs"
	if private {
		hint = "helm.allowPrivateNetworks or helm.allowedCIDRs"
	}
	return fmt.Sprintf("%s is %s, which is not allowed (see %s)", a, what, hint)
}

// control is the net.Dialer Control hook: it runs after DNS resolution for
// every connection attempt (redirects and retries included), so a name
// that resolves, or later re-resolves, to a refused address is caught.
func (p *policy) control(_, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &addrRefusal{reason: fmt.Sprintf("cannot check address %q", address)}
	}
	if reason := p.checkAddr(ap.Addr()); reason != "" {
		return &addrRefusal{reason: reason}
	}
	return nil
}

// hostAllowed reports whether host (a name or IP literal, no port) is on
// the allowed hosts list.
func (p *policy) hostAllowed(host string) bool {
	host = normalizeHost(host)
	for _, h := range p.hosts {
		if h == host {
			return true
		}
		if suffix, ok := strings.CutPrefix(h, "*."); ok && strings.HasSuffix(host, "."+suffix) {
			return true
		}
	}
	return false
}

// checkURL refuses a URL before any connection: a scheme other than the
// ones given, a host not on the allowed list (unless live), or an IP
// literal in a refused range. It returns nil or a *RefusedError.
func (p *policy) checkURL(u *url.URL, live bool, schemes ...string) error {
	refuse := func(format string, args ...any) error {
		return &RefusedError{URL: redact(u), Reason: fmt.Sprintf(format, args...)}
	}
	ok := false
	for _, s := range schemes {
		ok = ok || u.Scheme == s
	}
	if !ok {
		return refuse("scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
	}
	host := u.Hostname()
	if host == "" {
		return refuse("the URL names no host")
	}
	if !live && !p.hostAllowed(host) {
		return refuse("host %s is not on helm.allowedHosts and is not the URL of a repository in the live cluster", host)
	}
	if a, err := netip.ParseAddr(host); err == nil {
		if reason := p.checkAddr(a); reason != "" {
			return refuse("%s", reason)
		}
	}
	return nil
}

// normalizeHost lower-cases a host name and drops a trailing dot.
func normalizeHost(h string) string {
	return strings.TrimSuffix(strings.ToLower(h), ".")
}

// ValidateHostPattern checks one helm.allowedHosts entry: a host name, an
// IP address, or "*.domain" for every name below domain; no scheme, port
// or path.
func ValidateHostPattern(h string) error {
	name := strings.TrimPrefix(h, "*.")
	if name == "" || strings.ContainsAny(name, "/:@ *?#") && net.ParseIP(name) == nil {
		return fmt.Errorf("%q is not a host name, an IP address or *.domain", h)
	}
	return nil
}

// redact returns u as a string without user information.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}
