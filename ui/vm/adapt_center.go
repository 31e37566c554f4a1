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

// SetStatus implements Center.
func (b *ClientBackend) SetStatus(ctx context.Context, ch api.StatusChange) (api.AgentStatus, error) {
	st, err := b.c.SetStatus(ctx, ch)
	return st, centerErr("set status", err)
}

// FinishACW implements Center. The new status arrives as a status event.
func (b *ClientBackend) FinishACW(ctx context.Context) error {
	_, err := b.c.FinishACW(ctx)
	return centerErr("finish after-call work", err)
}

// ExtendACW implements Center. The new status arrives as a status event.
func (b *ClientBackend) ExtendACW(ctx context.Context, seconds int) error {
	_, err := b.c.ExtendACW(ctx, time.Duration(seconds)*time.Second)
	return centerErr("extend after-call work", err)
}

// Groups implements Center.
func (b *ClientBackend) Groups(ctx context.Context) ([]api.Group, error) {
	g, err := b.c.Groups(ctx)
	return g, centerErr("groups", err)
}

// Statuses implements Center.
func (b *ClientBackend) Statuses(ctx context.Context) ([]api.CustomStatus, error) {
	s, err := b.c.Statuses(ctx)
	return s, centerErr("statuses", err)
}

// History implements Center.
func (b *ClientBackend) History(ctx context.Context, since time.Time, missedOnly bool, limit int) ([]api.HistoryItem, error) {
	h, err := b.c.History(ctx, since, missedOnly, limit)
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
			return fmt.Errorf("%s: %w", what, &RefusedError{Reason: ce.Message, Code: ce.Code})
		case http.StatusNotFound, http.StatusMethodNotAllowed:
			return fmt.Errorf("%s: %w: %w", what, ErrUnsupported, err)
		}
	}
	if errors.Is(err, client.ErrUnreachable) {
		return fmt.Errorf("%s: %w: %w", what, ErrUnreachable, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}
