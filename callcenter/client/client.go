// Package client is the Go client of callcenterd's /v1 API: login, the
// agent's own view, call records and a reconnecting event stream. The
// softphone's view-models use it; it never touches SIP or audio.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
)

// Defaults of the event stream; each has an option.
const (
	DefaultBackoffMin  = 250 * time.Millisecond
	DefaultBackoffMax  = 30 * time.Second
	DefaultIdleTimeout = 60 * time.Second // three of the server's default pings
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// Client talks to one callcenterd. It is safe for concurrent use; it keeps
// the token of the last Login.
type Client struct {
	base        string
	hc          *http.Client
	log         *slog.Logger
	backoffMin  time.Duration
	backoffMax  time.Duration
	idleTimeout time.Duration

	mu    sync.Mutex
	token string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the HTTP client (timeouts, TLS, proxies). The default
// has a 15 s timeout; the event stream ignores the timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithLogger sets the logger; the default discards.
func WithLogger(l *slog.Logger) Option { return func(c *Client) { c.log = l } }

// WithBackoff sets the event stream's reconnect delays: the first retry
// waits min, each further one twice as long, up to max.
func WithBackoff(min, max time.Duration) Option {
	return func(c *Client) { c.backoffMin, c.backoffMax = min, max }
}

// WithIdleTimeout sets how long the event stream waits without any message
// or ping from the server before it reconnects: it is how a dead network
// path, which never closes the socket, is noticed.
func WithIdleTimeout(d time.Duration) Option { return func(c *Client) { c.idleTimeout = d } }

// New returns a client of the server at baseURL (e.g. "http://127.0.0.1:8080").
func New(baseURL string, opts ...Option) *Client {
	c := &Client{
		base:        strings.TrimRight(baseURL, "/"),
		hc:          &http.Client{Timeout: 15 * time.Second},
		log:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		backoffMin:  DefaultBackoffMin,
		backoffMax:  DefaultBackoffMax,
		idleTimeout: DefaultIdleTimeout,
	}
	for _, o := range opts {
		o(c)
	}
	c.backoffMin = max(c.backoffMin, time.Millisecond)
	c.backoffMax = max(c.backoffMax, c.backoffMin)
	return c
}

// Token returns the bearer token in use ("" when logged out).
func (c *Client) Token() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.token
}

// SetToken sets the bearer token, e.g. one kept from an earlier run.
func (c *Client) SetToken(token string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.token = token
}

// Login logs in and keeps the token for later calls. Wrong credentials are
// ErrBadCredentials, a disabled account ErrDisabled.
func (c *Client) Login(ctx context.Context, workNumber, password, device string) (api.LoginResponse, error) {
	var out api.LoginResponse
	req := api.LoginRequest{WorkNumber: workNumber, Password: password, Device: device}
	if err := c.do(ctx, http.MethodPost, "/login", "", req, &out); err != nil {
		return api.LoginResponse{}, fmt.Errorf("login %s: %w", workNumber, err)
	}
	c.SetToken(out.Token)
	return out, nil
}

// Logout ends the session on the server and forgets the token. A session the
// server no longer knows counts as logged out.
func (c *Client) Logout(ctx context.Context) error {
	err := c.do(ctx, http.MethodPost, "/logout", c.Token(), nil, nil)
	if err != nil && !errors.Is(err, ErrUnauthorized) {
		return fmt.Errorf("logout: %w", err)
	}
	c.SetToken("")
	return nil
}

// Me returns the logged-in agent and whether its SIP registration is live.
func (c *Client) Me(ctx context.Context) (api.Me, error) {
	var out api.Me
	if err := c.do(ctx, http.MethodGet, "/me", c.Token(), nil, &out); err != nil {
		return api.Me{}, fmt.Errorf("me: %w", err)
	}
	return out, nil
}

// Calls returns the agent's call records started at or after since (zero:
// no bound), newest first, at most limit of them (0: the server's default).
func (c *Client) Calls(ctx context.Context, since time.Time, limit int) ([]api.CallRecord, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.Format(time.RFC3339Nano))
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/calls"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []api.CallRecord
	if err := c.do(ctx, http.MethodGet, path, c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("calls: %w", err)
	}
	return out, nil
}

// do sends one API request: in (if not nil) as the JSON body, out (if not
// nil) decoded from a 2xx answer. Error answers become *Error; failing to
// reach the server wraps ErrUnreachable.
func (c *Client) do(ctx context.Context, method, path, token string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+api.Version+path, body)
	if err != nil {
		return fmt.Errorf("new request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return transportError(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readError(resp)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // keep the connection reusable
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode %s answer: %w", path, err)
	}
	return nil
}

// transportError classifies an error of the HTTP round trip: the caller
// giving up is its own error, anything else means the server could not be
// reached.
func transportError(err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnreachable, err)
}

// readError turns an error answer into *Error, also when it does not come
// from the API (a proxy's HTML page).
func readError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var eb api.ErrorBody
	if err := json.Unmarshal(b, &eb); err == nil && eb.Error.Code != "" {
		return &Error{Status: resp.StatusCode, Code: eb.Error.Code, Message: eb.Error.Message}
	}
	msg := http.StatusText(resp.StatusCode)
	if msg == "" {
		msg = "unexpected answer"
	}
	return &Error{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode), Message: msg}
}
