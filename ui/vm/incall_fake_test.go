package vm

import (
	"context"
	"sync"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
)

// fakeWork is the InCall and CRM seam: it records requests and answers
// what the test set, by endpoint. An endpoint without an answer echoes a
// plausible one.
type fakeWork struct {
	mu      sync.Mutex
	reqs    []string
	targets api.TransferTargets
	control map[string]api.CallControl // answer of an endpoint ("hold", "consult"...)
	errs    map[string]error           // failure of an endpoint
	box     api.NoteBox
	nextID  int64
	cbs     []api.Callback
	card    *api.CustomerCard // nil: ErrNoCustomer
	added   []string
	updated []api.Customer
}

func newFakeWork() *fakeWork {
	return &fakeWork{control: map[string]api.CallControl{}, errs: map[string]error{}, nextID: 100}
}

func (f *fakeWork) req(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reqs = append(f.reqs, s)
	name, _, _ := cut(s)
	return f.errs[name]
}

func cut(s string) (string, string, bool) {
	for i := range s {
		if s[i] == ' ' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

func (f *fakeWork) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.reqs...)
}

func (f *fakeWork) ctl(name, id string, extra ...string) (api.CallControl, error) {
	r := name + " " + id
	for _, e := range extra {
		r += " " + e
	}
	if err := f.req(r); err != nil {
		return api.CallControl{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	cc := f.control[name]
	cc.CallID = id
	return cc, nil
}

func (f *fakeWork) TransferTargets(context.Context) (api.TransferTargets, error) {
	if err := f.req("targets"); err != nil {
		return api.TransferTargets{}, err
	}
	return f.targets, nil
}
func (f *fakeWork) Hold(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("hold", id)
}
func (f *fakeWork) Resume(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("resume", id)
}
func (f *fakeWork) Transfer(_ context.Context, id string, t api.Target) (api.CallControl, error) {
	return f.ctl("transfer", id, t.Kind+":"+t.To)
}
func (f *fakeWork) Consult(_ context.Context, id string, t api.Target) (api.CallControl, error) {
	return f.ctl("consult", id, t.Kind+":"+t.To)
}
func (f *fakeWork) ConsultTransfer(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("consult-transfer", id)
}
func (f *fakeWork) Conference(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("conference", id)
}
func (f *fakeWork) ConsultCancel(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("consult-cancel", id)
}
func (f *fakeWork) SendDTMF(_ context.Context, id, d string) error {
	return f.req("dtmf " + id + " " + d)
}
func (f *fakeWork) Control(_ context.Context, id string) (api.CallControl, error) {
	return f.ctl("control", id)
}

func (f *fakeWork) OpenNotes(_ context.Context, id string) (api.NoteBox, error) {
	if err := f.req("open " + id); err != nil {
		return api.NoteBox{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.box
	b.CallID, b.Open = id, true
	return b, nil
}
func (f *fakeWork) CloseNotes(_ context.Context, id string) (api.NoteBox, error) {
	if err := f.req("close " + id); err != nil {
		return api.NoteBox{}, err
	}
	return api.NoteBox{CallID: id}, nil
}
func (f *fakeWork) AddNote(_ context.Context, id, text string) (api.Note, error) {
	if err := f.req("add " + id + " " + text); err != nil {
		return api.Note{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	n := api.Note{ID: f.nextID, CallID: id, Agent: "1001", AgentName: "Li Lei", Text: text, CreatedAt: t9.Add(time.Duration(f.nextID) * time.Second), Editable: true}
	f.box.Notes = append([]api.Note{n}, f.box.Notes...)
	return n, nil
}
func (f *fakeWork) EditNote(_ context.Context, id int64, text string) (api.Note, error) {
	if err := f.req("edit " + text); err != nil {
		return api.Note{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.box.Notes {
		if n.ID == id {
			n.Text, n.UpdatedAt = text, t9
			return n, nil
		}
	}
	return api.Note{ID: id, Text: text, UpdatedAt: t9, Editable: true}, nil
}
func (f *fakeWork) Notes(_ context.Context, c string) ([]api.Note, error) {
	return f.box.Notes, f.req("notes " + c)
}
func (f *fakeWork) Callbacks(_ context.Context, day time.Time) ([]api.Callback, error) {
	if err := f.req("callbacks " + day.Format(time.DateOnly)); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]api.Callback(nil), f.cbs...), nil
}
func (f *fakeWork) CreateCallback(_ context.Context, in api.CallbackInput) (api.Callback, error) {
	if err := f.req("create-callback " + in.CallID + " " + in.Number + " " + in.DueAt.Format("15:04") + " " + in.Remark); err != nil {
		return api.Callback{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	return api.Callback{ID: f.nextID, Number: in.Number, CallID: in.CallID, DueAt: in.DueAt, Remark: in.Remark, State: api.CallbackPending}, nil
}
func (f *fakeWork) UpdateCallback(_ context.Context, id int64, in api.CallbackInput) (api.Callback, error) {
	if err := f.req("update-callback " + in.DueAt.Format("01-02 15:04")); err != nil {
		return api.Callback{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.cbs {
		if c.ID == id {
			c.DueAt, c.Remark = in.DueAt, in.Remark
			return c, nil
		}
	}
	return api.Callback{}, &RefusedError{Reason: "no such callback", Code: api.CodeCallbackInvalid}
}
func (f *fakeWork) DeleteCallback(_ context.Context, id int64) error { return f.req("delete-callback") }
func (f *fakeWork) Customers(context.Context, string, bool) ([]api.Customer, error) {
	return nil, f.req("customers")
}
func (f *fakeWork) CreateCustomer(_ context.Context, c api.Customer) (api.Customer, error) {
	return c, f.req("create-customer")
}
func (f *fakeWork) AddCallerToCustomers(_ context.Context, id, name string) (api.Customer, error) {
	if err := f.req("add-caller " + id + " " + name); err != nil {
		return api.Customer{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.added = append(f.added, name)
	c := api.Customer{ID: 7, Name: name, Numbers: []string{"13800138000"}, Owner: "1001"}
	f.card = &api.CustomerCard{Customer: c}
	return c, nil
}
func (f *fakeWork) Customer(context.Context, int64) (api.CustomerCard, error) {
	return api.CustomerCard{}, f.req("customer")
}
func (f *fakeWork) UpdateCustomer(_ context.Context, id int64, c api.Customer) (api.Customer, error) {
	if err := f.req("update-customer"); err != nil {
		return api.Customer{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c.ID = id
	f.updated = append(f.updated, c)
	if f.card != nil {
		f.card.Customer = c
	}
	return c, nil
}
func (f *fakeWork) CustomerByNumber(_ context.Context, n string) (api.CustomerCard, error) {
	if err := f.req("by-number " + n); err != nil {
		return api.CustomerCard{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.card == nil {
		return api.CustomerCard{}, ErrNoCustomer
	}
	return *f.card, nil
}
