package vm

import (
	"context"
	"errors"
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

func (b *ClientBackend) TransferTargets(ctx context.Context) (api.TransferTargets, error) {
	t, err := b.c.TransferTargets(ctx)
	return t, centerErr("transfer targets", err)
}
func (b *ClientBackend) Hold(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.Hold(ctx, id)
	return cc, centerErr("hold", err)
}
func (b *ClientBackend) Resume(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.Resume(ctx, id)
	return cc, centerErr("resume", err)
}
func (b *ClientBackend) Transfer(ctx context.Context, id string, t api.Target) (api.CallControl, error) {
	cc, err := b.c.Transfer(ctx, id, t)
	return cc, centerErr("transfer", err)
}
func (b *ClientBackend) Consult(ctx context.Context, id string, t api.Target) (api.CallControl, error) {
	cc, err := b.c.Consult(ctx, id, t)
	return cc, centerErr("consult", err)
}
func (b *ClientBackend) ConsultTransfer(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.ConsultTransfer(ctx, id)
	return cc, centerErr("consult transfer", err)
}
func (b *ClientBackend) Conference(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.Conference(ctx, id)
	return cc, centerErr("three-way call", err)
}
func (b *ClientBackend) ConsultCancel(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.ConsultCancel(ctx, id)
	return cc, centerErr("cancel consult", err)
}
func (b *ClientBackend) SendDTMF(ctx context.Context, id, digits string) error {
	return centerErr("dtmf", b.c.SendDTMF(ctx, id, digits))
}
func (b *ClientBackend) Control(ctx context.Context, id string) (api.CallControl, error) {
	cc, err := b.c.Control(ctx, id)
	return cc, centerErr("control", err)
}
func (b *ClientBackend) OpenNotes(ctx context.Context, id string) (api.NoteBox, error) {
	nb, err := b.c.OpenNotes(ctx, id)
	return nb, centerErr("open notes", err)
}
func (b *ClientBackend) CloseNotes(ctx context.Context, id string) (api.NoteBox, error) {
	nb, err := b.c.CloseNotes(ctx, id)
	return nb, centerErr("close notes", err)
}
func (b *ClientBackend) AddNote(ctx context.Context, id, text string) (api.Note, error) {
	n, err := b.c.AddNote(ctx, id, text)
	return n, centerErr("add note", err)
}
func (b *ClientBackend) EditNote(ctx context.Context, id int64, text string) (api.Note, error) {
	n, err := b.c.EditNote(ctx, id, text)
	return n, centerErr("edit note", err)
}
func (b *ClientBackend) Notes(ctx context.Context, customer string) ([]api.Note, error) {
	n, err := b.c.Notes(ctx, customer)
	return n, centerErr("notes", err)
}
func (b *ClientBackend) Callbacks(ctx context.Context, day time.Time) ([]api.Callback, error) {
	cb, err := b.c.Callbacks(ctx, day)
	return cb, centerErr("callbacks", err)
}
func (b *ClientBackend) CreateCallback(ctx context.Context, in api.CallbackInput) (api.Callback, error) {
	cb, err := b.c.CreateCallback(ctx, in)
	return cb, centerErr("create callback", err)
}
func (b *ClientBackend) UpdateCallback(ctx context.Context, id int64, in api.CallbackInput) (api.Callback, error) {
	cb, err := b.c.UpdateCallback(ctx, id, in)
	return cb, centerErr("update callback", err)
}
func (b *ClientBackend) DeleteCallback(ctx context.Context, id int64) error {
	return centerErr("delete callback", b.c.DeleteCallback(ctx, id))
}
func (b *ClientBackend) Customers(ctx context.Context, q string, mine bool) ([]api.Customer, error) {
	cs, err := b.c.Customers(ctx, q, mine)
	return cs, centerErr("customers", err)
}
func (b *ClientBackend) CreateCustomer(ctx context.Context, cu api.Customer) (api.Customer, error) {
	c, err := b.c.CreateCustomer(ctx, cu)
	return c, centerErr("create customer", err)
}
func (b *ClientBackend) AddCallerToCustomers(ctx context.Context, id, name string) (api.Customer, error) {
	c, err := b.c.AddCallerToCustomers(ctx, id, name)
	return c, centerErr("add to my customers", err)
}
func (b *ClientBackend) Customer(ctx context.Context, id int64) (api.CustomerCard, error) {
	c, err := b.c.Customer(ctx, id)
	return c, centerErr("customer", err)
}
func (b *ClientBackend) UpdateCustomer(ctx context.Context, id int64, cu api.Customer) (api.Customer, error) {
	c, err := b.c.UpdateCustomer(ctx, id, cu)
	return c, centerErr("update customer", err)
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
