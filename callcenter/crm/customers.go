package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/agentphone/agentphone/callcenter"
)

// Card is a customer with its history (客户轨迹).
type Card struct {
	Customer  callcenter.Customer
	Calls     []callcenter.CallRecord // newest first
	Notes     []callcenter.Note       // newest first
	Callbacks []callcenter.Callback   // newest (due) first
}

// normalizeCustomer trims the text and normalizes the numbers of c.
func normalizeCustomer(c *callcenter.Customer) error {
	c.Name, c.Company = strings.TrimSpace(c.Name), strings.TrimSpace(c.Company)
	nums := make([]string, 0, len(c.Numbers))
	for _, raw := range c.Numbers {
		n, err := NormalizeNumber(raw)
		if err != nil {
			return err
		}
		if !slices.Contains(nums, n) {
			nums = append(nums, n)
		}
	}
	c.Numbers = nums
	tags := make([]string, 0, len(c.Tags))
	for _, t := range c.Tags {
		if t = strings.TrimSpace(t); t != "" && !slices.Contains(tags, t) {
			tags = append(tags, t)
		}
	}
	c.Tags = tags
	return nil
}

// CreateCustomer adds a customer to the agent's library (the agent is the
// owner). Numbers are normalized (NormalizeNumber); a number the agent
// already has on another customer is callcenter.ErrExists; bad input is
// callcenter.ErrInvalid.
func (s *Service) CreateCustomer(ctx context.Context, agent string, c callcenter.Customer) (callcenter.Customer, error) {
	what := fmt.Sprintf("create customer %q", c.Name)
	if err := normalizeCustomer(&c); err != nil {
		return c, fmt.Errorf("%s: %w", what, err)
	}
	now := s.now()
	c.ID, c.Owner, c.CreatedAt, c.UpdatedAt = 0, agent, now, now
	out, err := s.st.CreateCustomer(ctx, c)
	if err != nil {
		return out, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// AddCaller puts the customer of a call the agent is on into the agent's
// library ("add to my customers"), named name (the number when empty).
func (s *Service) AddCaller(ctx context.Context, agent, callID, name string) (callcenter.Customer, error) {
	what := fmt.Sprintf("add the customer of call %s", callID)
	v, err := s.involved(ctx, callID, agent)
	if err != nil {
		return callcenter.Customer{}, fmt.Errorf("%s: %w", what, err)
	}
	if v.customer == "" {
		return callcenter.Customer{}, fmt.Errorf("%s: %w: the call has no customer number", what, callcenter.ErrInvalid)
	}
	if strings.TrimSpace(name) == "" {
		name = v.customer
	}
	return s.CreateCustomer(ctx, agent, callcenter.Customer{Name: name, Numbers: []string{v.customer}})
}

// UpdateCustomer replaces a customer's card. Only its owner or a
// supervisor (or admin) may (ReasonNotOwner); only they may hand it to
// another owner (an empty Owner keeps it).
func (s *Service) UpdateCustomer(ctx context.Context, who Actor, id int64, c callcenter.Customer) (callcenter.Customer, error) {
	what := fmt.Sprintf("update customer %d", id)
	old, err := s.st.Customer(ctx, id)
	if err != nil {
		return old, fmt.Errorf("%s: %w", what, err)
	}
	super := who.Role == callcenter.RoleSupervisor || who.Role == callcenter.RoleAdmin
	if old.Owner != who.WorkNumber && !super {
		return old, refuse(ReasonNotOwner, "this customer belongs to agent %s: only its owner or a supervisor can edit it", old.Owner)
	}
	if err := normalizeCustomer(&c); err != nil {
		return old, fmt.Errorf("%s: %w", what, err)
	}
	switch {
	case c.Owner == "":
		c.Owner = old.Owner
	case c.Owner != old.Owner && !super:
		return old, refuse(ReasonNotOwner, "only a supervisor can give a customer to another agent")
	case c.Owner != old.Owner:
		if _, err := s.st.AgentByWorkNumber(ctx, c.Owner); err != nil {
			return old, fmt.Errorf("%s: new owner: %w", what, err)
		}
	}
	c.ID, c.CreatedAt, c.UpdatedAt = id, old.CreatedAt, s.now()
	out, err := s.st.UpdateCustomer(ctx, c)
	if err != nil {
		return old, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// SearchCustomers finds customers by name substring or number prefix or
// suffix (a number may be typed with separators), only the agent's own
// when mine; at most SearchLimit, by name. An empty query lists them all.
func (s *Service) SearchCustomers(ctx context.Context, agent, q string, mine bool) ([]callcenter.Customer, error) {
	q = strings.TrimSpace(q)
	if n, err := NormalizeNumber(q); err == nil {
		q = n
	}
	f := callcenter.CustomerFilter{Query: q, Limit: SearchLimit}
	if mine {
		f.Owner = agent
	}
	cs, err := s.st.Customers(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("search customers %q: %w", q, err)
	}
	return cs, nil
}

// Card returns a customer with its calls (records whose caller or callee
// is one of its numbers), notes and callbacks, newest first, at most
// CardLimit of each.
func (s *Service) Card(ctx context.Context, id int64) (Card, error) {
	c, err := s.st.Customer(ctx, id)
	if err != nil {
		return Card{}, fmt.Errorf("customer card %d: %w", id, err)
	}
	return s.card(ctx, c)
}

func (s *Service) card(ctx context.Context, c callcenter.Customer) (Card, error) {
	what := fmt.Sprintf("customer card %d", c.ID)
	card := Card{Customer: c}
	var err error
	if card.Calls, err = s.st.CallRecords(ctx, callcenter.RecordFilter{Numbers: c.Numbers, Limit: CardLimit}); err != nil {
		return card, fmt.Errorf("%s: calls: %w", what, err)
	}
	if card.Notes, err = s.st.Notes(ctx, callcenter.NoteFilter{Customers: c.Numbers, Limit: CardLimit}); err != nil {
		return card, fmt.Errorf("%s: notes: %w", what, err)
	}
	s.expire(ctx)
	cbs, err := s.st.Callbacks(ctx, callcenter.CallbackFilter{Numbers: c.Numbers})
	if err != nil {
		return card, fmt.Errorf("%s: callbacks: %w", what, err)
	}
	slices.Reverse(cbs) // newest first
	card.Callbacks = cbs[:min(len(cbs), CardLimit)]
	return card, nil
}

// CustomerByNumber finds the customer with this number, the agent's own
// first, else the one updated last (the same number may be in several
// agents' libraries). callcenter.ErrNotFound when no customer has it.
func (s *Service) CustomerByNumber(ctx context.Context, agent, number string) (callcenter.Customer, error) {
	n, err := NormalizeNumber(number)
	if err != nil {
		return callcenter.Customer{}, fmt.Errorf("customer by number: %w", err)
	}
	cs, err := s.st.Customers(ctx, callcenter.CustomerFilter{Number: n})
	if err != nil {
		return callcenter.Customer{}, fmt.Errorf("customer by number %s: %w", n, err)
	}
	if len(cs) == 0 {
		return callcenter.Customer{}, fmt.Errorf("customer by number %s: %w", n, callcenter.ErrNotFound)
	}
	best := cs[0]
	for _, c := range cs[1:] {
		if (c.Owner == agent) != (best.Owner == agent) {
			if c.Owner == agent {
				best = c
			}
			continue
		}
		if c.UpdatedAt.After(best.UpdatedAt) {
			best = c
		}
	}
	return best, nil
}

// CardByNumber is the card of CustomerByNumber.
func (s *Service) CardByNumber(ctx context.Context, agent, number string) (Card, error) {
	c, err := s.CustomerByNumber(ctx, agent, number)
	if err != nil {
		return Card{}, err
	}
	return s.card(ctx, c)
}

// CustomerName is the name the agent knows a number by, "" when none (for
// callbacks and screen pops; lookup failures just give no name).
func (s *Service) CustomerName(ctx context.Context, agent, number string) string {
	c, err := s.CustomerByNumber(ctx, agent, number)
	if err != nil {
		if !errors.Is(err, callcenter.ErrNotFound) && !errors.Is(err, callcenter.ErrInvalid) && ctx.Err() == nil {
			s.log.Warn("crm: customer name", "number", number, "err", err)
		}
		return ""
	}
	return c.Name
}
