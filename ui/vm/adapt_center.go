package vm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
)

// centerClient is the inbound call center's part of callcenter/client
// (issue 3). It is asserted at run time rather than called directly so the
// softphone builds while the client grows these methods: a client without
// them makes every call fail with ErrUnsupported, and the bar hides the
// status drop-down, exactly as with an older server.
type centerClient interface {
	SetStatus(ctx context.Context, ch api.StatusChange) (api.AgentStatus, error)
	FinishACW(ctx context.Context) error
	ExtendACW(ctx context.Context, seconds int) error
	Groups(ctx context.Context) ([]api.Group, error)
	Statuses(ctx context.Context) ([]api.CustomStatus, error)
	History(ctx context.Context, since time.Time, missedOnly bool, limit int) ([]api.HistoryItem, error)
}

// center returns the client's issue-3 methods, if it has them.
func (b *ClientBackend) center() (centerClient, error) {
	if c, ok := any(b.c).(centerClient); ok {
		return c, nil
	}
	return nil, fmt.Errorf("call center API: %w", ErrUnsupported)
}

// SetStatus implements Center.
func (b *ClientBackend) SetStatus(ctx context.Context, ch api.StatusChange) (api.AgentStatus, error) {
	c, err := b.center()
	if err != nil {
		return api.AgentStatus{}, err
	}
	st, err := c.SetStatus(ctx, ch)
	return st, centerErr("set status", err)
}

// FinishACW implements Center.
func (b *ClientBackend) FinishACW(ctx context.Context) error {
	c, err := b.center()
	if err != nil {
		return err
	}
	return centerErr("finish after-call work", c.FinishACW(ctx))
}

// ExtendACW implements Center.
func (b *ClientBackend) ExtendACW(ctx context.Context, seconds int) error {
	c, err := b.center()
	if err != nil {
		return err
	}
	return centerErr("extend after-call work", c.ExtendACW(ctx, seconds))
}

// Groups implements Center.
func (b *ClientBackend) Groups(ctx context.Context) ([]api.Group, error) {
	c, err := b.center()
	if err != nil {
		return nil, err
	}
	g, err := c.Groups(ctx)
	return g, centerErr("groups", err)
}

// Statuses implements Center.
func (b *ClientBackend) Statuses(ctx context.Context) ([]api.CustomStatus, error) {
	c, err := b.center()
	if err != nil {
		return nil, err
	}
	s, err := c.Statuses(ctx)
	return s, centerErr("statuses", err)
}

// History implements Center.
func (b *ClientBackend) History(ctx context.Context, since time.Time, missedOnly bool, limit int) ([]api.HistoryItem, error) {
	c, err := b.center()
	if err != nil {
		return nil, err
	}
	h, err := c.History(ctx, since, missedOnly, limit)
	return h, centerErr("history", err)
}

// centerErr marks a refusal (the server understood and said no: 400, 403,
// 409 "refused", 422) as a *RefusedError with the server's own message,
// which is written for the agent, and a server without the inbound call
// center (404, 405 on these fixed routes) as ErrUnsupported.
func centerErr(what string, err error) error {
	if err == nil {
		return nil
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		switch ce.Status {
		case http.StatusBadRequest, http.StatusForbidden, http.StatusConflict, http.StatusUnprocessableEntity:
			return fmt.Errorf("%s: %w", what, &RefusedError{Reason: ce.Message})
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return fmt.Errorf("%s: %w: %w", what, ErrUnsupported, err)
		}
	}
	if errors.Is(err, client.ErrUnreachable) {
		return fmt.Errorf("%s: %w: %w", what, ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
