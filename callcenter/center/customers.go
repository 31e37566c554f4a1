package center

import (
	"context"
	"fmt"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/crm"
)

// Customers is the customer library as the center uses it: the name an
// agent knows a number by, "" when none (callcenter/crm's Service has it).
// Lookups must be cheap and must not call the Center.
type Customers interface {
	CustomerName(ctx context.Context, agent, number string) string
}

// Callbacks schedules callbacks (callcenter/crm's Service has it).
type Callbacks interface {
	CreateCallback(ctx context.Context, agent string, in crm.CallbackInput) (callcenter.Callback, error)
}

// WithCustomers sets the customer library the screen pop and history names
// come from (default: none, no names).
func WithCustomers(c Customers) Option { return func(cc *Center) { cc.customers = c } }

// WithCallbacks makes the voicemail overflow schedule a callback for the
// caller (default: none; the group's members only get a notice). The
// callback's owner is the group's member best placed to call back (see
// callbackOwner), else fallback (a work number; "" for none).
func WithCallbacks(cb Callbacks, fallback string) Option {
	return func(c *Center) { c.callbacks, c.callbackOwner = cb, fallback }
}

// CallbackDelay is how long after a voicemail overflow its callback is
// due: soon, but late enough for the caller to have hung up.
const CallbackDelay = time.Minute

// lookupTimeout bounds one customer library lookup made for a call.
const lookupTimeout = time.Second

// customerName is the library's name for number, "" without a library.
func (c *Center) customerName(ctx context.Context, agent, number string) string {
	if c.customers == nil || number == "" {
		return ""
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	return c.customers.CustomerName(lctx, agent, number)
}

// DescribeNumber is who a number is for an agent's history: the customer
// library's name (the agent's own customer first) and the number's region
// (号码归属地). Either is "" when unknown.
func (c *Center) DescribeNumber(ctx context.Context, agent, number string) (name, region string) {
	region, _ = NumberInfo(number)
	return c.customerName(ctx, agent, number), region
}

// groupLabel is the group's label for people, its name when it has none.
func groupLabel(g callcenter.SkillGroup) string {
	if g.Label != "" {
		return g.Label
	}
	return g.Name
}

// callbackOwnerLocked picks who calls back a caller the group could not
// serve: its signed-in member of the best skill level with the fewest
// calls today, else its member of the best level, else the fallback owner.
func (c *Center) callbackOwnerLocked(group string) string {
	best, bestOnline := "", ""
	var bestLevel, onlineLevel, onlineCalls int
	now := c.now()
	for _, m := range c.members[group] {
		if best == "" || m.Level < bestLevel {
			best, bestLevel = m.Agent, m.Level
		}
		a := c.agents[m.Agent]
		if a == nil || a.m.Status().Presence == callcenter.PresenceOffline {
			continue
		}
		calls := a.m.Figures(now).Calls
		if bestOnline == "" || m.Level < onlineLevel || (m.Level == onlineLevel && calls < onlineCalls) {
			bestOnline, onlineLevel, onlineCalls = m.Agent, m.Level, calls
		}
	}
	switch {
	case bestOnline != "":
		return bestOnline
	case best != "":
		return best
	}
	return c.callbackOwner
}

// scheduleCallback creates the callback of a voicemail overflow and says
// who owns it ("" when none was made).
func (c *Center) scheduleCallback(ctx context.Context, caller string, g callcenter.SkillGroup, waited time.Duration) (string, error) {
	if c.callbacks == nil {
		return "", nil
	}
	c.mu.Lock()
	owner := c.callbackOwnerLocked(g.Name)
	due := c.now().Add(CallbackDelay)
	c.mu.Unlock()
	if owner == "" {
		return "", fmt.Errorf("center: callback for %s: group %s has no members and there is no fallback owner", caller, g.Name)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	remark := fmt.Sprintf("Waited %s in %s and asked to be called back.", waited.Round(time.Second), groupLabel(g))
	if _, err := c.callbacks.CreateCallback(cctx, owner, crm.CallbackInput{Number: caller, DueAt: due, Remark: remark}); err != nil {
		return "", fmt.Errorf("center: callback for %s to %s: %w", caller, owner, err)
	}
	return owner, nil
}
