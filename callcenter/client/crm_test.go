package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/crm"
	"github.com/agentphone/agentphone/callcenter/server"
)

// startCRM is a live API with the CRM service on the real SQLite store,
// its callback events going to the server, and agents 1001 (Alice), 1002
// (Bob, supervisor) and 1003 (Carol).
func startCRM(t *testing.T) (*live, *crm.Service) {
	t.Helper()
	st := openStore(t)
	for _, a := range []callcenter.Agent{
		{WorkNumber: "1002", Name: "Bob", Role: callcenter.RoleSupervisor, PasswordHash: pwHash()},
		{WorkNumber: "1003", Name: "Carol", PasswordHash: pwHash()},
	} {
		if _, err := st.CreateAgent(context.Background(), a); err != nil {
			t.Fatal(err)
		}
	}
	now := t0
	fwd := &server.Forwarder{}
	svc := crm.New(st, crm.WithClock(func() time.Time { return now }), crm.WithLocation(time.UTC), crm.WithSink(fwd))
	l := &live{t: t, st: st, opts: []server.Option{server.WithCRM(svc)}, addr: "127.0.0.1:0"}
	l.start()
	fwd.Set(l.server())
	t.Cleanup(l.stop)
	return l, svc
}

func loginAs(t *testing.T, l *live, wn string) *client.Client {
	t.Helper()
	c := client.New(l.url())
	if _, err := c.Login(context.Background(), wn, password, "pc"); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantRefused checks err is a refusal carrying code.
func wantRefused(t *testing.T, what string, err error, code string) {
	t.Helper()
	var e *client.Error
	if !errors.Is(err, client.ErrRefused) || !errors.As(err, &e) || e.Code != code || e.Message == "" {
		t.Fatalf("%s: err = %v, want ErrRefused with code %s", what, err, code)
	}
}

func record(t *testing.T, l *live, r callcenter.CallRecord) {
	t.Helper()
	if err := l.st.EndCallRecord(context.Background(), r); err != nil {
		t.Fatal(err)
	}
}

func inboundCall(id, caller, agent string, at time.Time) callcenter.CallRecord {
	return callcenter.CallRecord{CallID: id, Type: callcenter.CallInbound, Caller: caller, Callee: "4008001234",
		Agent: agent, StartedAt: at.Add(-10 * time.Second), AnsweredAt: at, EndedAt: at.Add(time.Minute),
		Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCaller}
}

func TestNotesClient(t *testing.T) {
	l, _ := startCRM(t)
	ctx := context.Background()
	record(t, l, inboundCall("c1", "13800138000", "1001", t0.Add(-time.Hour)))
	record(t, l, inboundCall("c2", "13900000000", "1001", t0.Add(-time.Minute)))
	record(t, l, callcenter.CallRecord{CallID: "t1", ParentID: "c1", Type: callcenter.CallInternal, Caller: "1001",
		Callee: "1002", Agent: "1002", StartedAt: t0.Add(-50 * time.Minute), Result: callcenter.ResultNoAnswer,
		EndedAt: t0.Add(-49 * time.Minute)})
	alice, bob := loginAs(t, l, "1001"), loginAs(t, l, "1002")

	box, err := alice.OpenNotes(ctx, "c1")
	if err != nil || !box.Open || box.Customer != "13800138000" {
		t.Fatalf("OpenNotes = %+v, %v", box, err)
	}
	n, err := alice.AddNote(ctx, "c1", "wants a refund")
	if err != nil || n.ID == 0 || !n.Editable || n.AgentName != "Alice" {
		t.Fatalf("AddNote = %+v, %v", n, err)
	}
	_, err = alice.OpenNotes(ctx, "c2")
	wantRefused(t, "open c2 with c1 open", err, api.CodeNoteBoxOpen)
	if box, err = alice.CloseNotes(ctx, "c1"); err != nil || box.Open {
		t.Fatalf("CloseNotes = %+v, %v", box, err)
	}
	if _, err := alice.OpenNotes(ctx, "c2"); err != nil {
		t.Fatal(err)
	}
	// Bob's transfer leg rang and was not answered: he reads, cannot add
	// or edit.
	box, err = bob.OpenNotes(ctx, "c1")
	if err != nil || len(box.Notes) != 1 || box.Notes[0].Editable {
		t.Fatalf("Bob's box %+v, %v", box, err)
	}
	_, err = bob.AddNote(ctx, "c1", "x")
	wantRefused(t, "note before answering", err, api.CodeNotAnsweredYet)
	_, err = bob.EditNote(ctx, n.ID, "x")
	wantRefused(t, "edit another's note", err, api.CodeNoteReadOnly)
	if _, err := alice.AddNote(ctx, "c2", " "); err == nil || errors.Is(err, client.ErrRefused) {
		t.Fatalf("blank note: err = %v, want a 400", err)
	}
	if ed, err := alice.EditNote(ctx, n.ID, "wants a refund of ¥100"); err != nil || ed.Text != "wants a refund of ¥100" {
		t.Fatalf("EditNote = %+v, %v", ed, err)
	}
	notes, err := bob.Notes(ctx, "138-0013-8000")
	if err != nil || len(notes) != 1 || notes[0].Text != "wants a refund of ¥100" {
		t.Fatalf("Notes = %+v, %v", notes, err)
	}
	if _, err := alice.EditNote(ctx, 9999, "x"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("edit unknown note: %v", err)
	}
}

func TestCallbacksClient(t *testing.T) {
	l, svc := startCRM(t)
	ctx := context.Background()
	record(t, l, inboundCall("c1", "13800138000", "1001", t0.Add(-time.Hour)))
	alice := loginAs(t, l, "1001")
	sctx, cancel := context.WithCancel(ctx)
	stream := alice.Events(sctx)
	defer func() {
		cancel()
		for range stream.C() {
		}
		<-stream.Done()
	}()
	waitEvent := func(typ string) api.Event {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case ev, ok := <-stream.C():
				if !ok {
					t.Fatalf("stream closed: %v", stream.Err())
				}
				if ev.Type == typ {
					return ev
				}
			case <-timeout:
				t.Fatalf("no %s event", typ)
			}
		}
	}
	waitEvent(api.EventSnapshot)

	cb, err := alice.CreateCallback(ctx, api.CallbackInput{CallID: "c1", DueAt: t0.Add(-time.Second)})
	wantRefused(t, "callback in the past", err, api.CodeCallbackInvalid)
	cb, err = alice.CreateCallback(ctx, api.CallbackInput{CallID: "c1", DueAt: t0.Add(time.Hour), Remark: "quote"})
	if err != nil || cb.Number != "13800138000" || cb.State != api.CallbackPending {
		t.Fatalf("CreateCallback = %+v, %v", cb, err)
	}
	if _, err := alice.CreateCustomer(ctx, api.Customer{Name: "张伟", Numbers: []string{"13800138000"}}); err != nil {
		t.Fatal(err)
	}
	list, err := alice.Callbacks(ctx, time.Date(2025, 3, 1, 23, 0, 0, 0, time.FixedZone("X", -5*3600)))
	if err != nil || len(list) != 1 || list[0].ID != cb.ID || list[0].Name != "张伟" {
		t.Fatalf("Callbacks = %+v, %v", list, err)
	}
	if today, err := alice.Callbacks(ctx, time.Time{}); err != nil || len(today) != 1 {
		t.Fatalf("today's callbacks = %+v, %v", today, err)
	}
	moved, err := alice.UpdateCallback(ctx, cb.ID, api.CallbackInput{DueAt: t0.Add(2 * time.Hour), Remark: "later"})
	if err != nil || moved.Remark != "later" || !moved.DueAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("UpdateCallback = %+v, %v", moved, err)
	}

	// The completed call arrives as an event, and the callback is done.
	call := inboundCall("c2", "13800138000", "1001", t0)
	record(t, l, call)
	if err := svc.CallCompleted(ctx, call); err != nil {
		t.Fatal(err)
	}
	var done api.Callback
	if err := json.Unmarshal(waitEvent(api.EventCallbackDone).Data, &done); err != nil || done.ID != cb.ID || done.State != api.CallbackDone {
		t.Fatalf("done event %+v, %v", done, err)
	}
	_, err = alice.UpdateCallback(ctx, cb.ID, api.CallbackInput{DueAt: t0.Add(3 * time.Hour)})
	wantRefused(t, "reschedule a done callback", err, api.CodeBadState)
	if err := alice.DeleteCallback(ctx, cb.ID); err != nil {
		t.Fatal(err)
	}
	if err := alice.DeleteCallback(ctx, cb.ID); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("delete twice: %v", err)
	}
}

func TestCustomersClient(t *testing.T) {
	l, _ := startCRM(t)
	ctx := context.Background()
	record(t, l, inboundCall("c1", "13800138000", "1001", t0.Add(-time.Hour)))
	alice, bob, carol := loginAs(t, l, "1001"), loginAs(t, l, "1002"), loginAs(t, l, "1003")

	zhang, err := alice.AddCallerToCustomers(ctx, "c1", "张伟")
	if err != nil || zhang.Owner != "1001" || zhang.Numbers[0] != "13800138000" {
		t.Fatalf("AddCallerToCustomers = %+v, %v", zhang, err)
	}
	if _, err := alice.AddCallerToCustomers(ctx, "c1", ""); !errors.Is(err, client.ErrExists) {
		t.Fatalf("adding twice: %v", err)
	}
	_, err = carol.AddCallerToCustomers(ctx, "c1", "")
	wantRefused(t, "adding another's caller", err, api.CodeNotInCall)
	acme, err := carol.CreateCustomer(ctx, api.Customer{Name: "Acme", Numbers: []string{"021 6123 4567"}, Tags: []string{"vip"}})
	if err != nil || acme.Owner != "1003" || acme.Numbers[0] != "02161234567" {
		t.Fatalf("CreateCustomer = %+v, %v", acme, err)
	}
	for _, tc := range []struct {
		c    *client.Client
		q    string
		mine bool
		want int
	}{{alice, "", false, 2}, {alice, "", true, 1}, {alice, "4567", false, 1}, {carol, "张", true, 0}, {carol, "138", false, 1}} {
		cs, err := tc.c.Customers(ctx, tc.q, tc.mine)
		if err != nil || len(cs) != tc.want {
			t.Errorf("Customers(%q, %v) = %d, %v; want %d", tc.q, tc.mine, len(cs), err, tc.want)
		}
	}
	card, err := carol.Customer(ctx, zhang.ID)
	if err != nil || card.Customer.Name != "张伟" || len(card.Calls) != 1 || card.Calls[0].CallID != "c1" {
		t.Fatalf("Customer = %+v, %v", card, err)
	}
	if byNum, err := alice.CustomerByNumber(ctx, "+86 21"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("unknown number: %+v, %v", byNum, err)
	}
	if byNum, err := alice.CustomerByNumber(ctx, "13800138000"); err != nil || byNum.Customer.ID != zhang.ID {
		t.Fatalf("CustomerByNumber = %+v, %v", byNum, err)
	}
	zhang.Company = "Zhang & Co"
	if _, err := carol.UpdateCustomer(ctx, zhang.ID, zhang); !errors.Is(err, client.ErrForbidden) {
		t.Fatalf("another agent's edit: %v", err)
	}
	up, err := bob.UpdateCustomer(ctx, zhang.ID, zhang)
	if err != nil || up.Company != "Zhang & Co" || up.Owner != "1001" {
		t.Fatalf("supervisor's UpdateCustomer = %+v, %v", up, err)
	}
}

func TestCRMNotEnabledClient(t *testing.T) {
	l := startLive(t)
	c := client.New(l.url())
	if _, err := c.Login(context.Background(), "1001", password, "pc"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Notes(context.Background(), "13800138000"); !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("Notes on a server without CRM: %v", err)
	}
}
