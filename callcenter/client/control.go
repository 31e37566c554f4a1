package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/agentphone/agentphone/callcenter/api"
)

// Call control (issue 4): hold, transfer, consult, three-way and DTMF on a
// live call, carried out by the server's room. callID is the call's id as
// the agent's phone got it (X-Call-ID, or X-Parent-Call-ID on a consult
// or transfer leg: either works). A refusal is an *Error matching
// ErrRefused whose Code is one of api.CodeAgentBusy, CodeAgentOffline,
// CodeNoAgentsOnline, CodeNotInCall, CodeBadState...

// controlRefusal reports whether code is a call-control refusal (409).
func controlRefusal(code string) bool {
	switch code {
	case api.CodeAgentBusy, api.CodeAgentOffline, api.CodeNoAnswer, api.CodeRejected,
		api.CodeNoAgentsOnline, api.CodeNotInCall, api.CodeBadState,
		api.CodeNoteBoxOpen, api.CodeNoteReadOnly, api.CodeNotAnsweredYet, api.CodeCallbackInvalid:
		return true
	}
	return false
}

// TransferTargets lists the agents (Online: the green dot) and skill
// groups the agent may transfer or consult to.
func (c *Client) TransferTargets(ctx context.Context) (api.TransferTargets, error) {
	var out api.TransferTargets
	err := c.do(ctx, http.MethodGet, "/transfer-targets", c.Token(), nil, &out)
	return out, err
}

func (c *Client) callControl(ctx context.Context, method, callID, op string, in any) (api.CallControl, error) {
	var out api.CallControl
	err := c.do(ctx, method, "/calls/"+url.PathEscape(callID)+"/"+op, c.Token(), in, &out)
	return out, err
}

// Hold puts the customer on hold: music for the customer, silence for
// the agent.
func (c *Client) Hold(ctx context.Context, callID string) (api.CallControl, error) {
	return c.callControl(ctx, http.MethodPost, callID, "hold", nil)
}

// Resume takes the customer off hold.
func (c *Client) Resume(ctx context.Context, callID string) (api.CallControl, error) {
	return c.callControl(ctx, http.MethodPost, callID, "resume", nil)
}

// Transfer blind-transfers the call to t (an online agent, a group or a
// number). A failure after ringing comes back as the Notice of a control
// event, with the customer back on the call.
func (c *Client) Transfer(ctx context.Context, callID string, t api.Target) (api.CallControl, error) {
	return c.callControl(ctx, http.MethodPost, callID, "transfer", t)
}

// Consult puts the customer on hold and calls t.
func (c *Client) Consult(ctx context.Context, callID string, t api.Target) (api.CallControl, error) {
	return c.callControl(ctx, http.MethodPost, callID, "consult", t)
}

// ConsultTransfer hands the customer to the consulted party; the agent
// leaves the call.
func (c *Client) ConsultTransfer(ctx context.Context, callID string) (api.CallControl, error) {
	return c.callControl(ctx, http.MethodPost, callID, "consult/transfer", nil)
}

// Conference makes a three-way call of customer, agent and consulted party.
func (c *Client) Conference(ctx context.Context, callID string) (api.CallControl, error) {
	return c.callControl(ctx, http.MethodPost, callID, "consult/conference", nil)
}

// ConsultCancel ends the consult and returns to the customer.
func (c *Client) ConsultCancel(ctx context.Context, callID string) (api.CallControl, error) {
	return c.callControl(ctx, http.MethodPost, callID, "consult/cancel", nil)
}

// SendDTMF sends digits (0-9 * # A-D) to the far end, RFC 4733.
func (c *Client) SendDTMF(ctx context.Context, callID, digits string) error {
	return c.do(ctx, http.MethodPost, "/calls/"+url.PathEscape(callID)+"/dtmf", c.Token(), api.DTMF{Digits: digits}, nil)
}

// Control is the call's current control state.
func (c *Client) Control(ctx context.Context, callID string) (api.CallControl, error) {
	return c.callControl(ctx, http.MethodGet, callID, "control", nil)
}
