package phone

import (
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// maxDialLen bounds what a user can type into the dial field.
const maxDialLen = 128

// parseTarget turns what the agent typed into a request URI. A bare
// number or user name ("1002", "+8613800138000") is routed through the
// registrar (domain host:port); a sip: URI is used as is. Visual
// separators in phone numbers (spaces, dashes, dots, parentheses) are
// dropped so pasted numbers like "138-0013-8000" work.
func parseTarget(target string, registrar *sip.Uri) (sip.Uri, error) {
	t := strings.TrimSpace(target)
	if t == "" || len(t) > maxDialLen {
		return sip.Uri{}, fmt.Errorf("%w: %q", ErrInvalidTarget, target)
	}
	if scheme, _, ok := strings.Cut(t, ":"); ok && strings.EqualFold(scheme, "sip") {
		var u sip.Uri
		if err := sip.ParseUri(t, &u); err != nil {
			return sip.Uri{}, fmt.Errorf("%w: %q: %v", ErrInvalidTarget, target, err)
		}
		if u.Host == "" || strings.ContainsAny(u.Host, " \t<>\"") || u.Port < 0 || u.Port > 65535 {
			return sip.Uri{}, fmt.Errorf("%w: %q: bad host", ErrInvalidTarget, target)
		}
		if !validUser(u.User) && u.User != "" {
			return sip.Uri{}, fmt.Errorf("%w: %q: bad user part", ErrInvalidTarget, target)
		}
		u.Scheme = "sip"
		return u, nil
	}
	if strings.Contains(t, ":") {
		// sips:, tel:, h323: ... we only speak SIP over UDP.
		return sip.Uri{}, fmt.Errorf("%w: %q: unsupported scheme", ErrInvalidTarget, target)
	}
	user := normalizeNumber(t)
	if !validUser(user) {
		return sip.Uri{}, fmt.Errorf("%w: %q", ErrInvalidTarget, target)
	}
	if registrar == nil {
		return sip.Uri{}, fmt.Errorf("%w: %q: no registrar in direct mode, use a sip: URI", ErrInvalidTarget, target)
	}
	return sip.Uri{Scheme: "sip", User: user, Host: registrar.Host, Port: registrar.Port}, nil
}

// normalizeNumber removes separators from something that looks like a
// phone number; anything with letters is left alone (a user name).
func normalizeNumber(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', '-', '(', ')', '.':
			continue
		}
		if !(r >= '0' && r <= '9') && r != '+' && r != '*' && r != '#' {
			return s
		}
		b.WriteRune(r)
	}
	return b.String()
}

// validUser accepts the RFC 3261 user part characters we are willing to
// put on the wire unescaped, minus those that would need quoting.
func validUser(u string) bool {
	if u == "" || len(u) > maxDialLen {
		return false
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case strings.IndexByte("-_.!~*'+", c) >= 0:
		case c == '#':
			// '#' is legal in a dial string (IVR codes) but must be
			// escaped in a URI; reject rather than guess.
			return false
		default:
			return false
		}
	}
	return true
}
