package phone

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/google/uuid"
	"github.com/icholy/digest"
)

// registration keeps one REGISTER dialog-less binding alive: constant
// Call-ID and From tag, increasing CSeq (RFC 3261 §10.2).
type registration struct {
	client    *sipgo.Client
	recipient sip.Uri // sip:registrar-host:port
	aor       sip.Uri // sip:user@domain
	contact   sip.Uri // sip:user@our-ip:our-port;transport=udp
	display   string
	user      string
	password  string
	callID    string
	fromTag   string
	cseq      uint32
	timeout   time.Duration
}

func newRegistration(client *sipgo.Client, acct Account, registrar, contact sip.Uri, timeout time.Duration) *registration {
	domain := acct.Realm
	if domain == "" {
		domain = registrar.Host
	}
	return &registration{
		client:    client,
		recipient: sip.Uri{Scheme: "sip", Host: registrar.Host, Port: registrar.Port},
		aor:       sip.Uri{Scheme: "sip", User: acct.Username, Host: domain},
		contact:   contact,
		display:   acct.DisplayName,
		user:      acct.Username,
		password:  acct.Password,
		callID:    uuid.NewString(),
		fromTag:   sip.GenerateTagN(16),
		cseq:      uint32(rand.IntN(1 << 15)),
		timeout:   timeout,
	}
}

func (r *registration) newRequest(expires time.Duration) *sip.Request {
	req := sip.NewRequest(sip.REGISTER, r.recipient)
	from := &sip.FromHeader{DisplayName: r.display, Address: r.aor, Params: sip.NewParams()}
	from.Params.Add("tag", r.fromTag)
	to := &sip.ToHeader{DisplayName: r.display, Address: r.aor, Params: sip.NewParams()}
	callID := sip.CallIDHeader(r.callID)
	r.cseq++
	cseq := &sip.CSeqHeader{SeqNo: r.cseq, MethodName: sip.REGISTER}
	contact := &sip.ContactHeader{Address: r.contact, Params: sip.NewParams()}
	exp := sip.ExpiresHeader(uint32(expires / time.Second))
	req.AppendHeader(from)
	req.AppendHeader(to)
	req.AppendHeader(&callID)
	req.AppendHeader(cseq)
	req.AppendHeader(contact)
	req.AppendHeader(&exp)
	req.SetTransport("UDP")
	return req
}

// register sends one REGISTER (answering one digest challenge) and
// returns the expiry the registrar granted.
func (r *registration) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()

	req := r.newRequest(expires)
	res, err := r.do(ctx, req)
	if err != nil {
		return 0, err
	}
	// One challenge is normal; a second one is only legitimate when the
	// server says our nonce went stale (RFC 7616 §3.3).
	for attempt := 0; attempt < 2 && isChallenge(res.StatusCode); attempt++ {
		chal, hdr, err := pickChallenge(res)
		if err != nil {
			return 0, fmt.Errorf("register: %w", err)
		}
		if attempt > 0 && !chal.Stale {
			break
		}
		req = r.newRequest(expires)
		cred, err := digest.Digest(chal, digest.Options{
			Method:   sip.REGISTER.String(),
			URI:      req.Recipient.String(),
			Username: r.user,
			Password: r.password,
		})
		if err != nil {
			return 0, fmt.Errorf("register: digest: %w", err)
		}
		req.AppendHeader(sip.NewHeader(hdr, cred.String()))
		if res, err = r.do(ctx, req); err != nil {
			return 0, err
		}
	}
	switch {
	case res.IsSuccess():
		return grantedExpiry(res, r.contact, expires), nil
	case isChallenge(res.StatusCode) || res.StatusCode == sip.StatusForbidden:
		return 0, &StatusError{Code: res.StatusCode, Reason: res.Reason, Cause: ErrBadCredentials}
	default:
		return 0, &StatusError{Code: res.StatusCode, Reason: res.Reason}
	}
}

func (r *registration) do(ctx context.Context, req *sip.Request) (*sip.Response, error) {
	res, err := r.client.Do(ctx, req)
	if err == nil {
		return res, nil
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, sip.ErrTransactionTimeout) {
		return nil, fmt.Errorf("register %s: %w", r.recipient.HostPort(), ErrTimeout)
	}
	return nil, fmt.Errorf("register %s: %w", r.recipient.HostPort(), err)
}

func isChallenge(code int) bool {
	return code == sip.StatusUnauthorized || code == sip.StatusProxyAuthRequired
}

// digestPreference ranks algorithms; the registrar offers SHA-256 first and
// MD5 for old phones (RFC 8760), and we take the strongest we support
// whatever the order.
var digestPreference = map[string]int{"SHA-512-256": 4, "SHA-256": 3, "MD5": 1, "": 1}

// pickChallenge returns the strongest supported challenge of a 401/407
// and the header name the credentials go into.
func pickChallenge(res *sip.Response) (*digest.Challenge, string, error) {
	in, out := "WWW-Authenticate", "Authorization"
	if res.StatusCode == sip.StatusProxyAuthRequired {
		in, out = "Proxy-Authenticate", "Proxy-Authorization"
	}
	var best *digest.Challenge
	bestRank := 0
	for _, h := range res.GetHeaders(in) {
		chal, err := digest.ParseChallenge(h.Value())
		if err != nil {
			continue
		}
		chal.Algorithm = strings.ToUpper(chal.Algorithm)
		rank := digestPreference[chal.Algorithm]
		if rank > bestRank && digest.CanDigest(chal) {
			best, bestRank = chal, rank
		}
	}
	if best == nil {
		return nil, "", fmt.Errorf("no supported %s challenge in %d response", in, res.StatusCode)
	}
	return best, out, nil
}

// grantedExpiry reads the binding lifetime from a 2xx: our Contact's
// expires parameter wins over the Expires header (RFC 3261 §10.2.4).
func grantedExpiry(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		var addr sip.Uri
		params := sip.NewParams()
		if c, ok := h.(*sip.ContactHeader); ok {
			addr, params = c.Address, c.Params
		} else if _, err := sip.ParseAddressValue(h.Value(), &addr, &params); err != nil {
			continue
		}
		if addr.Host != ours.Host || addr.Port != ours.Port {
			continue
		}
		if v, ok := params.Get("expires"); ok {
			if n, err := strconv.Atoi(v); err == nil && n >= 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n >= 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}

// refreshAfter says when to refresh a binding of lifetime exp: at 80%, but
// never later than 5 s before expiry, and never sooner than half the
// lifetime (so a tiny Expires does not turn into a busy loop).
func refreshAfter(exp time.Duration) time.Duration {
	r := exp * 8 / 10
	if late := exp - 5*time.Second; late < r {
		r = late
	}
	if r < exp/2 {
		r = exp / 2
	}
	if r < 100*time.Millisecond {
		r = 100 * time.Millisecond
	}
	return r
}

// backoff returns the wait before retry number attempt (0-based):
// min·2^attempt capped at max, with "equal jitter" (half fixed, half
// random) so agents behind one dead server do not retry in lockstep.
// rnd returns a float in [0,1).
func backoff(attempt int, min, max time.Duration, rnd func() float64) time.Duration {
	d := min
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	half := d / 2
	return half + time.Duration(rnd()*float64(d-half))
}
