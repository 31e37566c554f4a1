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

// ClientBackend implements InCall and CRM on callcenter/client; refusals
// become *RefusedError with the server's code and message (centerErr).
var (
	_ InCall = (*ClientBackend)(nil)
	_ CRM    = (*ClientBackend)(nil)
)

// TransferTargets implements InCall: the agents (online or not, with their
// status) and skill groups (waiting and online counts) the transfer and
// consult dialogs list.
func (b *ClientBackend) TransferTargets(ctx context.Context) (api.TransferTargets, error) {
	t, err := b.c.TransferTargets(ctx)
	return t, centerErr("transfer targets", err)
}

// Hold implements InCall: the customer of call id hears hold music and the
// agent nothing.
func (b *ClientBackend) Hold(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.Hold(ctx, id)
	return cc, centerErr("hold", err)
}

// Resume implements InCall: the held customer and the agent talk again.
func (b *ClientBackend) Resume(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.Resume(ctx, id)
	return cc, centerErr("resume", err)
}

// Transfer implements InCall: a blind transfer of call id to an agent, a
// skill group or a number; the customer hears music while the target rings.
func (b *ClientBackend) Transfer(ctx context.Context, id string, t api.Target) (api.CallControl, error) {
	cc, err := b.c.Transfer(ctx, id, t)
	return cc, centerErr("transfer", err)
}

// Consult implements InCall: the customer of call id is held while the agent
// calls t.
func (b *ClientBackend) Consult(ctx context.Context, id string, t api.Target) (api.CallControl, error) {
	cc, err := b.c.Consult(ctx, id, t)
	return cc, centerErr("consult", err)
}

// ConsultTransfer implements InCall: the customer goes to the consulted
// party and the agent leaves.
func (b *ClientBackend) ConsultTransfer(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.ConsultTransfer(ctx, id)
	return cc, centerErr("consult transfer", err)
}

// Conference implements InCall: the customer, the agent and the consulted
// party all hear each other.
func (b *ClientBackend) Conference(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.Conference(ctx, id)
	return cc, centerErr("three-way call", err)
}

// ConsultCancel implements InCall: the consulted party is dropped and the
// agent talks to the customer again.
func (b *ClientBackend) ConsultCancel(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.ConsultCancel(ctx, id)
	return cc, centerErr("cancel consult", err)
}

// SendDTMF implements InCall: the server sends digits (RFC 4733) to the far
// end of call id.
func (b *ClientBackend) SendDTMF(ctx context.Context, id, digits string) error {
	return centerErr("dtmf", b.c.SendDTMF(ctx, id, digits))
}

// Control implements InCall: the current control state of call id (by the
// customer call's id or any leg's).
func (b *ClientBackend) Control(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.Control(ctx, id)
	return cc, centerErr("control", err)
}

// OpenNotes implements CRM: opens call id's note box; refused with
// note_box_open while another call's is open.
func (b *ClientBackend) OpenNotes(ctx context.Context, id string) (api.NoteBox, error) {
	nb, err := b.c.OpenNotes(ctx, id)
	return nb, centerErr("open notes", err)
}

// CloseNotes implements CRM: closes call id's note box (closing a closed box
// is fine).
func (b *ClientBackend) CloseNotes(ctx context.Context, id string) (api.NoteBox, error) {
	nb, err := b.c.CloseNotes(ctx, id)
	return nb, centerErr("close notes", err)
}

// AddNote implements CRM: adds a note to call id, whose box must be open and
// which the agent answered.
func (b *ClientBackend) AddNote(ctx context.Context, id, text string) (api.Note, error) {
	n, err := b.c.AddNote(ctx, id, text)
	return n, centerErr("add note", err)
}

// EditNote implements CRM: replaces the text of one of the agent's own notes.
func (b *ClientBackend) EditNote(ctx context.Context, id int64, text string) (api.Note, error) {
	n, err := b.c.EditNote(ctx, id, text)
	return n, itemErr("edit note", err)
}

// Notes implements CRM: the customer number's most recent notes, newest
// first.
func (b *ClientBackend) Notes(ctx context.Context, customer string) ([]api.Note, error) {
	n, err := b.c.Notes(ctx, customer)
	return n, centerErr("notes", err)
}

// Callbacks implements CRM: the agent's callbacks due on day's date, by due
// time.
func (b *ClientBackend) Callbacks(ctx context.Context, day time.Time) ([]api.Callback, error) {
	cb, err := b.c.Callbacks(ctx, day)
	return cb, centerErr("callbacks", err)
}

// CreateCallback implements CRM: schedules a callback (to the call's
// customer when in.CallID is set).
func (b *ClientBackend) CreateCallback(ctx context.Context, in api.CallbackInput) (api.Callback, error) {
	cb, err := b.c.CreateCallback(ctx, in)
	return cb, centerErr("create callback", err)
}

// UpdateCallback implements CRM: reschedules a callback; a done one is
// refused.
func (b *ClientBackend) UpdateCallback(ctx context.Context, id int64, in api.CallbackInput) (api.Callback, error) {
	cb, err := b.c.UpdateCallback(ctx, id, in)
	return cb, itemErr("update callback", err)
}

// DeleteCallback implements CRM: deletes one of the agent's callbacks.
func (b *ClientBackend) DeleteCallback(ctx context.Context, id int64) error {
	return itemErr("delete callback", b.c.DeleteCallback(ctx, id))
}

// Customers implements CRM: searches the library by name or number, only the
// agent's own with mine.
func (b *ClientBackend) Customers(ctx context.Context, q string, mine bool) ([]api.Customer, error) {
	cs, err := b.c.Customers(ctx, q, mine)
	return cs, centerErr("customers", err)
}

// CreateCustomer implements CRM: adds a card owned by the agent.
func (b *ClientBackend) CreateCustomer(ctx context.Context, cu api.Customer) (api.Customer, error) {
	c, err := b.c.CreateCustomer(ctx, cu)
	return c, centerErr("create customer", err)
}

// AddCallerToCustomers implements CRM: "Add to my customers" for call id's
// caller, named name.
func (b *ClientBackend) AddCallerToCustomers(ctx context.Context, id, name string) (api.Customer, error) {
	c, err := b.c.AddCallerToCustomers(ctx, id, name)
	return c, centerErr("add to my customers", err)
}

// Customer implements CRM: a card with its history of calls, notes and
// callbacks.
func (b *ClientBackend) Customer(ctx context.Context, id int64) (api.CustomerCard, error) {
	c, err := b.c.Customer(ctx, id)
	return c, itemErr("customer", err)
}

// UpdateCustomer implements CRM: edits a card (its owner or a supervisor).
func (b *ClientBackend) UpdateCustomer(ctx context.Context, id int64, cu api.Customer) (api.Customer, error) {
	c, err := b.c.UpdateCustomer(ctx, id, cu)
	return c, itemErr("update customer", err)
}

// CustomerByNumber implements CRM: the API's not_found is "no card has this
// number" (ErrNoCustomer); a server without the route answers a bare 404.
func (b *ClientBackend) CustomerByNumber(ctx context.Context, number string) (api.CustomerCard, error) {
	c, err := b.c.CustomerByNumber(ctx, number)
	if errors.Is(err, client.ErrNotFound) {
		var ce *client.Error
		if errors.As(err, &ce) && ce.Code == api.CodeNotFound {
			return c, ErrNoCustomer
		}
	}
	return c, centerErr("customer by number", err)
}

// itemErr is centerErr for a route naming one note, callback or customer
// by id: its not_found means that item was deleted meanwhile (ErrGone),
// not a server without the CRM, which could not have listed it.
func itemErr(what string, err error) error {
	var ce *client.Error
	if errors.As(err, &ce) && ce.Status == http.StatusNotFound && ce.Code == api.CodeNotFound {
		return fmt.Errorf("%s: %w: %w", what, ErrGone, err)
	}
	return centerErr(what, err)
}
