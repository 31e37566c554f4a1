package sipedge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/emiago/sipgo/sip"
)

// binding is one agent's registration. There is at most one per agent: a
// REGISTER from another device replaces it (takeover, SPEC §1).
type binding struct {
	workNumber string
	contact    sip.Uri // as the phone wrote it
	// target is where requests really go: the contact's user at the
	// REGISTER's source address, so phones behind NAT are reachable.
	target    sip.Uri
	transport string
	source    string // ip:port the REGISTER came from
	expires   time.Time
}

func (b *binding) contactString() string { return b.contact.String() }

// Registered reports whether the agent has a live binding.
func (e *Edge) Registered(workNumber string) bool {
	_, ok := e.lookupBinding(workNumber)
	return ok
}

func (e *Edge) lookupBinding(workNumber string) (binding, bool) {
	now := e.now()
	e.mu.Lock()
	defer e.mu.Unlock()
	b, ok := e.bindings[workNumber]
	if !ok || !now.Before(b.expires) {
		return binding{}, false
	}
	return *b, true
}

// purgeBindings drops expired bindings and tells the observer.
func (e *Edge) purgeBindings() {
	now := e.now()
	var gone []*binding
	e.mu.Lock()
	for k, b := range e.bindings {
		if !now.Before(b.expires) {
			delete(e.bindings, k)
			gone = append(gone, b)
		}
	}
	e.mu.Unlock()
	for _, b := range gone {
		e.log.Info("sip: registration expired", "agent", b.workNumber, "contact", b.contactString())
		e.notifyReg(b.workNumber, false, b.contactString())
	}
}

func (e *Edge) notifyReg(workNumber string, registered bool, contact string) {
	if e.onReg != nil {
		e.onReg(workNumber, registered, contact)
	}
}

// credentialsFor collects every HA1 that may authenticate workNumber: the
// password's HA1s and each live login's SIP secret. Unknown and disabled
// agents get a random set, so that they take the same path (and time) as a
// wrong password and are answered identically.
func (e *Edge) credentialsFor(ctx context.Context, workNumber string) (ha1Set, bool, error) {
	a, err := e.dir.AgentByWorkNumber(ctx, workNumber)
	if errors.Is(err, callcenter.ErrNotFound) || (err == nil && a.Disabled) {
		return dummyHA1s(), false, nil
	}
	if err != nil {
		return ha1Set{}, false, err
	}
	set := ha1Set{md5: []string{a.HA1MD5}, sha256: []string{a.HA1SHA256}}
	sessions, err := e.dir.LiveSessions(ctx, workNumber)
	if err != nil {
		return ha1Set{}, false, err
	}
	for _, s := range sessions {
		if s.Revoked {
			continue
		}
		set.md5 = append(set.md5, s.SIPHA1MD5)
		set.sha256 = append(set.sha256, s.SIPHA1SHA256)
	}
	return set, true, nil
}

func dummyHA1s() ha1Set {
	var b [48]byte
	rand.Read(b[:])
	return ha1Set{md5: []string{hex.EncodeToString(b[:16])}, sha256: []string{hex.EncodeToString(b[16:])}}
}

// authOutcome is what the digest check concluded for a request.
type authOutcome int

const (
	authOK        authOutcome = iota
	authChallenge             // 401/407 with fresh challenges
	authStale                 // 401/407 with stale=true
	authForbidden             // 403
	authBad                   // 400: credentials we cannot read
	authError                 // 500: directory failure
)

func (o authOutcome) String() string {
	return [...]string{"ok", "challenge", "stale", "forbidden", "bad", "error"}[o]
}

// authenticate checks the request's (Proxy-)Authorization header. It
// returns the authenticated work number on authOK.
func (e *Edge) authenticate(ctx context.Context, req *sip.Request, header string) (string, authOutcome) {
	h := req.GetHeader(header)
	if h == nil {
		return "", authChallenge
	}
	cred, err := parseCredentials(h.Value())
	if err != nil {
		return "", authBad
	}
	src := sourceIP(req.Source())
	if e.auth.blocked(cred.Username, src) {
		return "", authForbidden
	}
	set, known, err := e.credentialsFor(ctx, cred.Username)
	if err != nil {
		e.log.Error("sip: credentials lookup failed", "user", cred.Username, "error", err)
		return "", authError
	}
	err = e.auth.verify(req.Method.String(), cred, set)
	switch {
	case err == nil && known:
		e.auth.succeeded(cred.Username, src)
		return cred.Username, authOK
	case errors.Is(err, errStaleNonce) && known:
		return "", authStale
	case errors.Is(err, errBadNonce):
		// Not our nonce (e.g. issued before a restart): a fresh challenge,
		// not a failure.
		return "", authChallenge
	}
	if e.auth.failed(cred.Username, src) {
		e.log.Warn("sip: repeated authentication failures", "user", cred.Username, "source", src)
		return "", authForbidden
	}
	return "", authChallenge
}

// authResponse builds the answer for a failed authentication.
func (e *Edge) authResponse(req *sip.Request, o authOutcome, proxy bool) *sip.Response {
	switch o {
	case authChallenge, authStale:
		code, reason, hdr := 401, "Unauthorized", "WWW-Authenticate"
		if proxy {
			code, reason, hdr = 407, "Proxy Authentication Required", "Proxy-Authenticate"
		}
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		for _, c := range e.auth.challenges(o == authStale, e.md5Only(req)) {
			res.AppendHeader(sip.NewHeader(hdr, c))
		}
		return res
	case authForbidden:
		return sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
	case authBad:
		return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
	default:
		return sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil)
	}
}

// md5Only reports whether req comes from a client that must be challenged
// with MD5 alone (WithMD5OnlyFor).
func (e *Edge) md5Only(req *sip.Request) bool {
	if len(e.md5OnlyUAs) == 0 {
		return false
	}
	h := req.GetHeader("User-Agent")
	if h == nil {
		return false
	}
	ua := strings.ToLower(strings.TrimSpace(h.Value()))
	for _, p := range e.md5OnlyUAs {
		if strings.HasPrefix(ua, p) {
			return true
		}
	}
	return false
}

func sourceIP(hostport string) string {
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	return h
}

// handleRegister is the registrar (RFC 3261 §10.3).
func (e *Edge) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	if !e.enter() {
		respond(e, tx, sip.NewResponseFromRequest(req, 503, "Service Unavailable", nil))
		return
	}
	defer e.handlers.Done()
	ctx, cancel := context.WithTimeout(e.ctx, 5*time.Second)
	defer cancel()
	respond(e, tx, e.register(ctx, req))
}

func respond(e *Edge, tx sip.ServerTransaction, res *sip.Response) {
	if err := tx.Respond(res); err != nil {
		e.log.Debug("sip: respond failed", "status", res.StatusCode, "error", err)
	}
}

func (e *Edge) register(ctx context.Context, req *sip.Request) *sip.Response {
	to := req.To()
	if to == nil || to.Address.User == "" || req.From() == nil || req.CallID() == nil {
		return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
	}
	user, outcome := e.authenticate(ctx, req, "Authorization")
	if outcome != authOK {
		return e.authResponse(req, outcome, false)
	}
	if user != to.Address.User {
		// One agent may not register another's address of record.
		return sip.NewResponseFromRequest(req, 403, "Forbidden", nil)
	}

	contacts := req.GetHeaders("Contact")
	if len(contacts) == 0 {
		// A query: answer with the current binding.
		res := sip.NewResponseFromRequest(req, 200, "OK", nil)
		if b, ok := e.lookupBinding(user); ok {
			res.AppendHeader(contactHeader(b.contact, b.expires.Sub(e.now())))
		}
		return res
	}
	if len(contacts) > 1 {
		// One binding per agent: several contacts in one REGISTER is a
		// request we cannot honour faithfully.
		return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
	}
	ch, ok := contacts[0].(*sip.ContactHeader)
	if !ok {
		return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
	}

	requested, err := requestedExpiry(req, ch)
	if err != nil {
		return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
	}
	if ch.Address.Wildcard || ch.Address.Host == "*" {
		if requested != 0 {
			return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
		}
		e.unbind(user, "")
		return sip.NewResponseFromRequest(req, 200, "OK", nil)
	}
	if requested == 0 {
		e.unbind(user, ch.Address.String())
		return sip.NewResponseFromRequest(req, 200, "OK", nil)
	}
	exp := min(max(requested, e.minExpires), e.maxExpires)

	src := req.Source()
	host, portStr, err := net.SplitHostPort(src)
	if err != nil {
		return sip.NewResponseFromRequest(req, 400, "Bad Request", nil)
	}
	port, _ := strconv.Atoi(portStr)
	target := sip.Uri{Scheme: "sip", User: ch.Address.User, Host: host, Port: port}
	transport := strings.ToLower(req.Transport())
	if transport != "" && transport != "udp" {
		target.UriParams = sip.NewParams()
		target.UriParams.Add("transport", transport)
	}
	b := &binding{
		workNumber: user,
		contact:    *ch.Address.Clone(),
		target:     target,
		transport:  transport,
		source:     src,
		expires:    e.now().Add(exp),
	}
	e.mu.Lock()
	old, had := e.bindings[user]
	e.bindings[user] = b
	e.mu.Unlock()
	if !had || old.contactString() != b.contactString() || old.source != b.source {
		e.log.Info("sip: registered", "agent", user, "contact", b.contactString(), "source", src, "expires", exp, "takeover", had)
		e.notifyReg(user, true, b.contactString())
	}

	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(contactHeader(b.contact, exp))
	res.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(int(exp/time.Second))))
	res.AppendHeader(sip.NewHeader("Date", e.now().UTC().Format(time.RFC1123)))
	return res
}

// unbind removes the agent's binding; contact, when set, must match (an old
// device unregistering must not remove the device that took over).
func (e *Edge) unbind(user, contact string) {
	e.mu.Lock()
	b, ok := e.bindings[user]
	if ok && (contact == "" || b.contactString() == contact) {
		delete(e.bindings, user)
	} else {
		ok = false
	}
	e.mu.Unlock()
	if ok {
		e.log.Info("sip: unregistered", "agent", user, "contact", b.contactString())
		e.notifyReg(user, false, b.contactString())
	}
}

// requestedExpiry reads the Contact's expires parameter, else the Expires
// header, else the RFC 3261 default of one hour.
func requestedExpiry(req *sip.Request, ch *sip.ContactHeader) (time.Duration, error) {
	if v, ok := ch.Params.Get("expires"); ok {
		return parseSeconds(v)
	}
	if h := req.GetHeader("Expires"); h != nil {
		return parseSeconds(h.Value())
	}
	return time.Hour, nil
}

func parseSeconds(v string) (time.Duration, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
	if err != nil {
		return 0, err
	}
	return time.Duration(n) * time.Second, nil
}

func contactHeader(u sip.Uri, exp time.Duration) *sip.ContactHeader {
	p := sip.NewParams()
	p.Add("expires", strconv.Itoa(int(exp.Round(time.Second)/time.Second)))
	return &sip.ContactHeader{Address: *u.Clone(), Params: p}
}
