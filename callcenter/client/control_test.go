package client_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/server"
)

// controller is a fake server.Controller: it records what it was asked
// and refuses calls named "refused-<code>" with that code.
type controller struct {
	mu   sync.Mutex
	last string // op agent callID target/digits
}

type refusal struct{ code string }

func (r refusal) Error() string       { return "refused: " + r.code }
func (r refusal) RefusalCode() string { return r.code }

func (c *controller) note(op, agent, callID, extra string) (api.CallControl, error) {
	c.mu.Lock()
	c.last = op + " " + agent + " " + callID + " " + extra
	c.mu.Unlock()
	if code, ok := strings.CutPrefix(callID, "refused-"); ok {
		return api.CallControl{}, refusal{code}
	}
	return api.CallControl{CallID: callID, State: op}, nil
}

func (c *controller) Hold(_ context.Context, a, id string) (api.CallControl, error) {
	return c.note("hold", a, id, "")
}
func (c *controller) Resume(_ context.Context, a, id string) (api.CallControl, error) {
	return c.note("resume", a, id, "")
}
func (c *controller) Transfer(_ context.Context, a, id string, t api.Target) (api.CallControl, error) {
	return c.note("transfer", a, id, t.Kind+":"+t.To)
}
func (c *controller) Consult(_ context.Context, a, id string, t api.Target) (api.CallControl, error) {
	return c.note("consult", a, id, t.Kind+":"+t.To)
}
func (c *controller) ConsultTransfer(_ context.Context, a, id string) (api.CallControl, error) {
	return c.note("consult-transfer", a, id, "")
}
func (c *controller) Conference(_ context.Context, a, id string) (api.CallControl, error) {
	return c.note("conference", a, id, "")
}
func (c *controller) ConsultCancel(_ context.Context, a, id string) (api.CallControl, error) {
	return c.note("cancel", a, id, "")
}
func (c *controller) SendDTMF(_ context.Context, a, id, digits string) error {
	_, err := c.note("dtmf", a, id, digits)
	return err
}
func (c *controller) CallControl(_ context.Context, a, id string) (api.CallControl, error) {
	return c.note("control", a, id, "")
}
func (c *controller) TransferGroups() []api.TransferGroup {
	return []api.TransferGroup{{Name: "sales", Label: "Sales", Waiting: 2, Online: 1}}
}

// TestCallControl: each client method reaches its endpoint with the
// agent's identity, the call id and the body; refusals are ErrRefused with
// the server's code; the event "control" reaches the agent's stream.
func TestCallControl(t *testing.T) {
	fc := &controller{}
	l := startLive(t, server.WithController(fc))
	c := loggedIn(t, l)
	ctx := context.Background()
	agent := api.Target{Kind: api.TargetAgent, To: "1002"}
	for _, tc := range []struct {
		name string
		do   func(id string) error
		want string // recorded op and extra
	}{
		{"hold", func(id string) error { _, err := c.Hold(ctx, id); return err }, "hold 1001 %s "},
		{"resume", func(id string) error { _, err := c.Resume(ctx, id); return err }, "resume 1001 %s "},
		{"transfer", func(id string) error { _, err := c.Transfer(ctx, id, agent); return err }, "transfer 1001 %s agent:1002"},
		{"consult", func(id string) error { _, err := c.Consult(ctx, id, agent); return err }, "consult 1001 %s agent:1002"},
		{"consult transfer", func(id string) error { _, err := c.ConsultTransfer(ctx, id); return err }, "consult-transfer 1001 %s "},
		{"conference", func(id string) error { _, err := c.Conference(ctx, id); return err }, "conference 1001 %s "},
		{"cancel", func(id string) error { _, err := c.ConsultCancel(ctx, id); return err }, "cancel 1001 %s "},
		{"dtmf", func(id string) error { return c.SendDTMF(ctx, id, "12#") }, "dtmf 1001 %s 12#"},
		{"control", func(id string) error { _, err := c.Control(ctx, id); return err }, "control 1001 %s "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.do("call-1"); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			fc.mu.Lock()
			got := fc.last
			fc.mu.Unlock()
			if want := fmt.Sprintf(tc.want, "call-1"); got != want {
				t.Errorf("controller got %q, want %q", got, want)
			}
			err := tc.do("refused-" + api.CodeBadState)
			var ae *client.Error
			if !errors.Is(err, client.ErrRefused) || !errors.As(err, &ae) || ae.Code != api.CodeBadState || ae.Status != 409 {
				t.Errorf("refusal: %v", err)
			}
		})
	}
	tt, err := c.TransferTargets(ctx)
	if err != nil || len(tt.Groups) != 1 || tt.Groups[0].Online != 1 {
		t.Errorf("transfer targets %+v, %v", tt, err)
	}
	if _, err := c.Transfer(ctx, "x", api.Target{}); err != nil {
		t.Errorf("empty target reaches the controller, which judges it: %v", err)
	}

	// Control events reach the agent's stream.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st := c.Events(sctx)
	defer func() { cancel(); <-st.Done() }()
	<-st.C() // snapshot
	l.server().Control("1001", api.CallControl{CallID: "call-1", State: api.ControlHeld})
	ev := <-st.C()
	if ev.Type != api.EventControl {
		t.Errorf("event %+v, want control", ev)
	}
}

// TestCallControlWithoutController: the endpoints answer 404.
func TestCallControlWithoutController(t *testing.T) {
	l := startLive(t)
	c := loggedIn(t, l)
	if _, err := c.Hold(context.Background(), "call-1"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("hold without a controller: %v, want ErrNotFound", err)
	}
}
