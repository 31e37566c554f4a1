package sipedge

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/icholy/digest"
)

// Digest authentication (RFC 3261 §22, RFC 8760).
//
// Nonces are stateless: base64(issued-unix-nanos || HMAC-SHA256(key, issued)).
// The edge can therefore recognise its own nonces after they expired and
// answer stale=true (the phone silently retries with the new nonce instead of
// asking its user for a password), and a flood of unauthenticated REGISTERs
// costs no memory. Replays inside a nonce's lifetime are bounded by the short
// nonce lifetime; nonce-count is not tracked.

const (
	algSHA256 = "SHA-256"
	algMD5    = "MD5"

	// nonceTTL is how long a challenge may be answered.
	nonceTTL = 60 * time.Second
	// maxAuthFailures failed answers from one (user, source) within
	// failureWindow turn the 401/407 re-challenge into 403 Forbidden until the
	// window passes. Unknown users count exactly like wrong passwords.
	maxAuthFailures = 3
	failureWindow   = time.Minute
)

var (
	errNoCredentials = errors.New("no credentials")
	errBadNonce      = errors.New("nonce not issued by us")
	errStaleNonce    = errors.New("nonce expired")
	errBadDigest     = errors.New("digest mismatch")
	errMalformedAuth = errors.New("malformed credentials")
)

// ha1Set is every HA1 that may answer a challenge for one user.
type ha1Set struct {
	md5    []string
	sha256 []string
}

type authenticator struct {
	realm string
	algs  []string // challenge order = preference
	key   [32]byte
	now   func() time.Time

	mu       sync.Mutex
	failures map[string]failure
}

type failure struct {
	count int
	first time.Time
}

func newAuthenticator(realm string, algs []string, now func() time.Time) (*authenticator, error) {
	a := &authenticator{realm: realm, algs: algs, now: now, failures: make(map[string]failure)}
	if _, err := rand.Read(a.key[:]); err != nil {
		return nil, err
	}
	return a, nil
}

func (a *authenticator) nonce() string {
	var b [8 + 32]byte
	binary.BigEndian.PutUint64(b[:8], uint64(a.now().UnixNano()))
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:8])
	copy(b[8:], m.Sum(nil))
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// checkNonce returns nil for a live nonce of ours, errStaleNonce for an
// expired one and errBadNonce for anything else.
func (a *authenticator) checkNonce(n string) error {
	b, err := base64.RawURLEncoding.DecodeString(n)
	if err != nil || len(b) != 40 {
		return errBadNonce
	}
	m := hmac.New(sha256.New, a.key[:])
	m.Write(b[:8])
	if !hmac.Equal(m.Sum(nil), b[8:]) {
		return errBadNonce
	}
	issued := time.Unix(0, int64(binary.BigEndian.Uint64(b[:8])))
	age := a.now().Sub(issued)
	if age < -time.Second || age > nonceTTL {
		return errStaleNonce
	}
	return nil
}

// challenges returns the header values to send, one per algorithm in order
// of preference (RFC 8760 §2.4; by default SHA-256 then MD5), all with
// qop=auth and the same nonce; only the MD5 one when md5Only.
func (a *authenticator) challenges(stale, md5Only bool) []string {
	n := a.nonce()
	algs := a.algs
	if md5Only {
		algs = []string{algMD5}
	}
	out := make([]string, 0, len(algs))
	for _, alg := range algs {
		c := digest.Challenge{Realm: a.realm, Nonce: n, Algorithm: alg, QOP: []string{"auth"}, Stale: stale}
		out = append(out, c.String())
	}
	return out
}

// parse extracts the digest credentials from an Authorization or
// Proxy-Authorization header value.
func parseCredentials(v string) (*digest.Credentials, error) {
	if v == "" {
		return nil, errNoCredentials
	}
	c, err := digest.ParseCredentials(v)
	if err != nil {
		return nil, errMalformedAuth
	}
	if c.Username == "" || c.Nonce == "" || c.Response == "" || c.URI == "" {
		return nil, errMalformedAuth
	}
	switch strings.ToUpper(c.Algorithm) {
	case "", algMD5, algSHA256:
	default:
		return nil, errMalformedAuth
	}
	if c.QOP != "" && c.QOP != "auth" {
		return nil, errMalformedAuth
	}
	return c, nil
}

// verify checks cred against every candidate HA1 for its algorithm. It
// always does the same work whether or not the user exists (the caller passes
// a dummy set for unknown users) so timing does not tell them apart.
func (a *authenticator) verify(method string, cred *digest.Credentials, set ha1Set) error {
	if cred.Realm != a.realm {
		return errBadDigest
	}
	nonceErr := a.checkNonce(cred.Nonce)
	if errors.Is(nonceErr, errBadNonce) {
		return nonceErr
	}
	alg := strings.ToUpper(cred.Algorithm)
	if alg == "" {
		alg = algMD5
	}
	if !slices.Contains(a.algs, alg) {
		// Only what we offer: a server configured SHA-256-only must not be
		// downgraded by a client answering MD5.
		return errBadDigest
	}
	cands := set.md5
	if alg == algSHA256 {
		cands = set.sha256
	}
	chal := &digest.Challenge{Realm: a.realm, Nonce: cred.Nonce, Algorithm: alg}
	if cred.QOP == "auth" {
		chal.QOP = []string{"auth"}
	}
	ok := false
	for _, ha1 := range cands {
		if ha1 == "" {
			continue
		}
		want, err := digest.Digest(chal, digest.Options{
			Method: method, URI: cred.URI, Username: cred.Username,
			A1: strings.ToLower(ha1), Cnonce: cred.Cnonce, Count: cred.Nc,
		})
		if err != nil {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(want.Response), []byte(strings.ToLower(cred.Response))) == 1 {
			ok = true
		}
	}
	if !ok {
		return errBadDigest
	}
	// A correct answer to an expired nonce: the phone knows the password,
	// so ask it to retry with a fresh nonce (stale=true).
	return nonceErr
}

// failed records a failed answer and reports whether the (user, source)
// pair has now failed too often and should be refused with 403.
func (a *authenticator) failed(user, source string) bool {
	now := a.now()
	k := user + "\x00" + source
	a.mu.Lock()
	defer a.mu.Unlock()
	f := a.failures[k]
	if f.count == 0 || now.Sub(f.first) > failureWindow {
		f = failure{first: now}
	}
	f.count++
	a.failures[k] = f
	return f.count > maxAuthFailures
}

// blocked reports whether (user, source) is still refused.
func (a *authenticator) blocked(user, source string) bool {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	f, ok := a.failures[user+"\x00"+source]
	return ok && f.count > maxAuthFailures && now.Sub(f.first) <= failureWindow
}

func (a *authenticator) succeeded(user, source string) {
	a.mu.Lock()
	delete(a.failures, user+"\x00"+source)
	a.mu.Unlock()
}

// purge drops failure counters older than the window.
func (a *authenticator) purge() {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, f := range a.failures {
		if now.Sub(f.first) > failureWindow {
			delete(a.failures, k)
		}
	}
}
