package center

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// StatusStore is the part of the store RestoreStatus reads: the agent's last
// persisted status. callcenter/store's SQLite has it; a Store without it
// makes RestoreStatus do nothing.
type StatusStore interface {
	LastStatus(ctx context.Context, agent string) (callcenter.AgentStatus, error)
}

// RestoreStatus gives an agent whose device came back after a server restart its
// status from before the restart: the server calls it when an agent with a
// session that is still valid reconnects (its event stream or an API call),
// so the agent need not set a status again. Only an agent the center has
// had offline since it started, whose status nothing has changed since,
// is restored, and only to a signed-in last status (login status, custom
// status, phone status and auto-answer; a call or after-call work ended
// with the server). Every later call is a no-op. It reports whether the
// status was restored.
func (c *Center) RestoreStatus(ctx context.Context, agentWN string) (bool, error) {
	ss, ok := c.st.(StatusStore)
	if !ok {
		return false, nil
	}
	c.mu.Lock()
	fresh := !c.seen[agentWN] && c.agentLocked(agentWN).m.Status().Presence == callcenter.PresenceOffline
	c.mu.Unlock()
	if !fresh {
		return false, nil
	}
	// Read off the lock: a change that lands meanwhile marks the agent
	// seen, and the restore below then gives way to it.
	prev, err := ss.LastStatus(ctx, agentWN)
	switch {
	case errors.Is(err, callcenter.ErrNotFound):
		prev = callcenter.AgentStatus{Presence: callcenter.PresenceOffline}
	case err != nil:
		return false, fmt.Errorf("center: last status of %s: %w", agentWN, err)
	}
	c.mu.Lock()
	defer c.unlock()
	if c.seen[agentWN] {
		return false, nil
	}
	c.seen[agentWN] = true // once: a failed or empty restore is not retried
	if prev.Presence == callcenter.PresenceOffline {
		return false, nil
	}
	if prev.Presence == callcenter.PresenceCustom && !c.customKnownLocked(prev.Custom) {
		// The admin removed that status meanwhile: signed in, busy.
		prev.Presence, prev.Custom, prev.Phone = callcenter.PresenceOnline, "", callcenter.PhoneBusy
	}
	a := c.agentLocked(agentWN)
	if _, err := c.transitionLocked(a, func(now time.Time) (callcenter.AgentStatus, error) { return a.m.Restore(prev, now) }); err != nil {
		return false, err
	}
	c.log.Info("center: status restored after restart", "agent", agentWN, "presence", prev.Presence, "phone", prev.Phone)
	return true, nil
}

func (c *Center) customKnownLocked(name string) bool {
	for _, s := range c.statuses {
		if s.Name == name {
			return true
		}
	}
	return false
}
