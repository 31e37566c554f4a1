package client

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
)

// The inbound call center (issue 3): the agent's status, after-call work,
// groups, custom statuses and call history. A server without the inbound
// call center answers these with a 404 (*Error with Code api.CodeNotFound),
// except History.

// SetStatus changes the agent's status; nil fields of ch stay as they are.
// It returns the status the server settled on. A change the agent's state
// does not allow (switching answering off while a call rings, ...) is
// ErrRefused, with the rule in the *Error's Message; an unknown presence,
// phone or custom status is an *Error with Status 400.
func (c *Client) SetStatus(ctx context.Context, ch api.StatusChange) (api.AgentStatus, error) {
	var out api.AgentStatus
	if err := c.do(ctx, http.MethodPut, "/me/status", c.Token(), ch, &out); err != nil {
		return api.AgentStatus{}, fmt.Errorf("set status: %w", err)
	}
	return out, nil
}

// Status returns the agent's status as the server has it.
func (c *Client) Status(ctx context.Context) (api.AgentStatus, error) {
	var out api.AgentStatus
	if err := c.do(ctx, http.MethodGet, "/me/status", c.Token(), nil, &out); err != nil {
		return api.AgentStatus{}, fmt.Errorf("status: %w", err)
	}
	return out, nil
}

// FinishACW ends after-call work now and returns the new status; outside
// after-call work it is ErrRefused.
func (c *Client) FinishACW(ctx context.Context) (api.AgentStatus, error) {
	var out api.AgentStatus
	if err := c.do(ctx, http.MethodPost, "/me/acw/finish", c.Token(), nil, &out); err != nil {
		return api.AgentStatus{}, fmt.Errorf("finish after-call work: %w", err)
	}
	return out, nil
}

// ExtendACW lengthens after-call work by d (rounded up to whole seconds)
// and returns the new status; outside after-call work it is ErrRefused. d
// must be positive and at most an hour: the server refuses others, and
// ErrInvalidArgument is returned without asking it for d <= 0.
func (c *Client) ExtendACW(ctx context.Context, d time.Duration) (api.AgentStatus, error) {
	if d <= 0 {
		return api.AgentStatus{}, fmt.Errorf("extend after-call work by %s: %w", d, ErrInvalidArgument)
	}
	sec := int(min(math.Ceil(d.Seconds()), math.MaxInt32))
	var out api.AgentStatus
	if err := c.do(ctx, http.MethodPost, "/me/acw/extend", c.Token(), api.ACWExtend{Seconds: sec}, &out); err != nil {
		return api.AgentStatus{}, fmt.Errorf("extend after-call work by %s: %w", d, err)
	}
	return out, nil
}

// Groups returns the agent's skill groups with their live figures.
func (c *Client) Groups(ctx context.Context) ([]api.Group, error) {
	var out []api.Group
	if err := c.do(ctx, http.MethodGet, "/me/groups", c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("groups: %w", err)
	}
	return out, nil
}

// Statuses returns the custom statuses the agent may choose.
func (c *Client) Statuses(ctx context.Context) ([]api.CustomStatus, error) {
	var out []api.CustomStatus
	if err := c.do(ctx, http.MethodGet, "/statuses", c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("statuses: %w", err)
	}
	return out, nil
}

// History returns the agent's calls and missed offers started at or after
// since (zero: no bound), newest first, at most limit (0: the server's
// default); only missed calls when missedOnly.
func (c *Client) History(ctx context.Context, since time.Time, missedOnly bool, limit int) ([]api.HistoryItem, error) {
	q := url.Values{}
	if !since.IsZero() {
		q.Set("since", since.Format(time.RFC3339Nano))
	}
	if missedOnly {
		q.Set("missed", "true")
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/history"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out []api.HistoryItem
	if err := c.do(ctx, http.MethodGet, path, c.Token(), nil, &out); err != nil {
		return nil, fmt.Errorf("history: %w", err)
	}
	return out, nil
}
