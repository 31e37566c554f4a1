package vm

import (
	"context"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/test"
	"github.com/zalando/go-keyring"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/admin"
	"github.com/agentphone/agentphone/callcenter/crm"
	"github.com/agentphone/agentphone/callcenter/server"
	"github.com/agentphone/agentphone/callcenter/store"
)

// crmServer is the real API with the CRM service on the real SQLite store
// with demo data; the CRM's callback events reach the agents' streams
// through a Forwarder, as in callcenterd. Its clock is the test's: the
// reminder is driven by moving it and calling Tick, never by waiting.
type crmServer struct {
	url string
	st  *store.SQLite
	svc *crm.Service

	mu  sync.Mutex
	now time.Time
}

func (s *crmServer) clock() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.now
}

func (s *crmServer) advance(d time.Duration) {
	s.mu.Lock()
	s.now = s.now.Add(d)
	s.mu.Unlock()
}

func newCRMServer(t *testing.T, now time.Time) *crmServer {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := admin.Seed(ctx, st, server.DefaultRealm); err != nil {
		t.Fatal(err)
	}
	s := &crmServer{st: st, now: now}
	fwd := &server.Forwarder{}
	s.svc = crm.New(st, crm.WithClock(s.clock), crm.WithLocation(time.UTC), crm.WithSink(fwd))
	srv := server.New(st, server.WithSIPRegistrar("registrar.test:5060"), server.WithCRM(s.svc))
	fwd.Set(srv)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		_ = srv.Close()
		hs.Close()
	})
	s.url = hs.URL
	return s
}

// answered stores the record of call id from number answered by agent at
// at, as the SIP edge does when the agent answers (BeginCallRecord).
func (s *crmServer) answered(t *testing.T, id, number, agent string, at time.Time) callcenter.CallRecord {
	t.Helper()
	r := callcenter.CallRecord{CallID: id, Type: callcenter.CallInbound, Caller: number, Callee: admin.DemoNumber,
		Agent: agent, Group: "sales", StartedAt: at.Add(-10 * time.Second), AnsweredAt: at}
	if err := s.st.BeginCallRecord(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// ended completes the record, as the edge does at hang-up.
func (s *crmServer) ended(t *testing.T, r callcenter.CallRecord, at time.Time) callcenter.CallRecord {
	t.Helper()
	r.EndedAt, r.Result, r.HangupBy = at, callcenter.ResultAnswered, callcenter.PartyCaller
	if err := s.st.EndCallRecord(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// crmAgent is agent 1001 logged in to the real server through the
// ClientBackend, with the bar and the in-call work view-models following
// the server's event stream, as the shell wires them. Only the SIP phone
// is a fake: these view-models read the call's id and customer from the
// screen pop, which the SIP call's headers fill.
type crmAgent struct {
	backend   *ClientBackend
	phone     *fakePhone
	bar       *PhoneBarVM
	pop       *PopVM
	notes     *NotesVM
	callbacks *CallbacksVM

	mu        sync.Mutex
	reminders [][2]string
	dialled   []string
}

func loginCRMAgent(t *testing.T, s *crmServer) *crmAgent {
	t.Helper()
	keyring.MockInit()
	test.NewTempApp(t)
	b, err := ClientConnector()(s.url)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	resp, err := b.Login(ctx, "1001", admin.DemoPassword, "pc")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	a := &crmAgent{backend: b.(*ClientBackend), phone: &fakePhone{events: make(chan PhoneEvent)}}
	a.pop = NewPopVM(WithPopClock(s.clock, time.UTC))
	a.notes = NewNotesVM(a.backend, a.pop, WithNotesClock(s.clock, time.UTC))
	a.callbacks = NewCallbacksVM(a.backend, func(n string) {
		a.mu.Lock()
		a.dialled = append(a.dialled, n)
		a.mu.Unlock()
	}, a.pop, WithCallbacksClock(s.clock, time.UTC), WithReminder(func(title, body string) {
		a.mu.Lock()
		a.reminders = append(a.reminders, [2]string{title, body})
		a.mu.Unlock()
	}))
	events := b.Events(ctx)
	a.bar = NewPhoneBarVM(resp.Agent, a.phone, WithParts(a.pop, a.callbacks, a.notes), WithServerEvents(events))
	done := make(chan struct{})
	go func() {
		defer close(done)
		a.bar.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		for range events { // the stream closes once ctx ends
		}
		a.bar.Close()
		a.notes.Close()
		a.callbacks.Close()
	})
	return a
}

// call hands the bar a phone event of the SIP call with server id id from
// number, through the phone's channel as the real phone would.
func (a *crmAgent) call(c *fakeCall, st CallState) {
	c.mu.Lock()
	c.state = st
	c.mu.Unlock()
	a.phone.events <- PhoneEvent{Kind: EventCall, Call: c, State: st}
}

func inboundFrom(id, number string) *fakeCall {
	return &fakeCall{dir: Inbound, remote: "sip:edge",
		headers: map[string]string{HeaderCallID: id, HeaderCaller: number, HeaderNumber: admin.DemoNumber}}
}

func (a *crmAgent) reminded() [][2]string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][2]string(nil), a.reminders...)
}

// eventually polls ok until it holds (generous: the loaded CI machine).
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func getStr(b binding.String) string { v, _ := b.Get(); return v }
func getBool(b binding.Bool) bool    { v, _ := b.Get(); return v }

func noteRows(l binding.UntypedList) []NoteRow {
	items, _ := l.Get()
	out := make([]NoteRow, 0, len(items))
	for _, it := range items {
		out = append(out, it.(NoteRow))
	}
	return out
}

func callbackRows(l binding.UntypedList) []CallbackRow {
	items, _ := l.Get()
	out := make([]CallbackRow, 0, len(items))
	for _, it := range items {
		out = append(out, it.(CallbackRow))
	}
	return out
}

// TestNotesAgainstRealServer: the notes panel on the real API and CRM
// rules: the box opens on answer with an earlier read-only note of
// another agent; add; edit our own; the next call's box is refused with
// the server's words until the first is closed, then opens by itself.
func TestNotesAgainstRealServer(t *testing.T) {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	s := newCRMServer(t, t0)
	ctx := context.Background()
	// Yesterday Han Meimei (1002) took a call from the same customer and
	// left a note.
	earlier := s.answered(t, "c0", "13800138000", "1002", t0.Add(-24*time.Hour))
	if _, err := s.svc.OpenNotes(ctx, "1002", "c0"); err != nil {
		t.Fatal(err)
	}
	s.advance(-24 * time.Hour)
	if _, err := s.svc.AddNote(ctx, "1002", "c0", "Wants the blue one"); err != nil {
		t.Fatal(err)
	}
	s.advance(24 * time.Hour)
	s.ended(t, earlier, t0.Add(-24*time.Hour+time.Minute))

	a := loginCRMAgent(t, s)
	rec1 := s.answered(t, "c1", "13800138000", "1001", t0)
	c1 := inboundFrom("c1", "13800138000")
	a.call(c1, CallRinging)
	a.call(c1, CallActive)
	eventually(t, "c1's note box open", func() bool { return getBool(a.notes.Visible) && len(noteRows(a.notes.Rows)) == 1 })
	if r := noteRows(a.notes.Rows)[0]; r.Editable || r.Author != "1002 Han Meimei" || r.Text != "Wants the blue one" || r.When != "03-03 10:00" {
		t.Fatalf("earlier note row %+v", r)
	}
	if c := getStr(a.notes.Customer); c != "13800138000" {
		t.Errorf("box customer %q", c)
	}

	// Add, then edit our own.
	a.notes.SetDraft("  Asked about delivery  ")
	a.notes.Save()
	eventually(t, "our note listed", func() bool { return len(noteRows(a.notes.Rows)) == 2 })
	mine := noteRows(a.notes.Rows)[0]
	if !mine.Editable || mine.Text != "Asked about delivery" || mine.Author != "1001 Li Lei" || getStr(a.notes.Draft) != "" {
		t.Fatalf("our note row %+v, draft %q", mine, getStr(a.notes.Draft))
	}
	a.notes.Edit(noteRows(a.notes.Rows)[1]) // 1002's: read-only
	if getBool(a.notes.Editing) {
		t.Fatal("editing another agent's note")
	}
	s.advance(time.Minute)
	a.notes.Edit(mine)
	a.notes.SetDraft("Asked about delivery; wants it Friday")
	a.notes.Save()
	eventually(t, "the edit saved", func() bool {
		r := noteRows(a.notes.Rows)
		return len(r) == 2 && r[0].Text == "Asked about delivery; wants it Friday"
	})
	if r := noteRows(a.notes.Rows)[0]; !strings.HasSuffix(r.When, "(edited)") || getBool(a.notes.Editing) || getStr(a.notes.Message) != "" {
		t.Errorf("after edit: %+v editing %v message %q", r, getBool(a.notes.Editing), getStr(a.notes.Message))
	}

	// c1 ends: its box stays open. c2 is answered: the server refuses its
	// box while c1's is open, and the panel offers to close c1's.
	s.ended(t, rec1, t0.Add(2*time.Minute))
	a.call(c1, CallEnded)
	s.answered(t, "c2", "02161234567", "1001", t0.Add(5*time.Minute))
	c2 := inboundFrom("c2", "02161234567")
	a.call(c2, CallRinging)
	a.call(c2, CallActive)
	eventually(t, "c2's box refused", func() bool { return getBool(a.notes.ClosePrevious) })
	// The server's message names the open call by id; the agent reads
	// the rule alone.
	if msg := getStr(a.notes.Message); msg != "Close the previous call's note first" {
		t.Errorf("refusal shown as %q", msg)
	}
	if c := getStr(a.notes.Customer); c != "13800138000" || !getBool(a.notes.Visible) {
		t.Errorf("c1's box replaced: customer %q visible %v", c, getBool(a.notes.Visible))
	}
	if open := s.svc.OpenBox("1001"); open != "c1" {
		t.Fatalf("server's open box %q, want c1", open)
	}
	a.notes.CloseBox()
	eventually(t, "c2's box open", func() bool { return getStr(a.notes.Customer) == "02161234567" })
	if getBool(a.notes.ClosePrevious) || getStr(a.notes.Message) != "" || len(noteRows(a.notes.Rows)) != 0 {
		t.Errorf("c2's box: button %v message %q rows %+v", getBool(a.notes.ClosePrevious), getStr(a.notes.Message), noteRows(a.notes.Rows))
	}
	if open := s.svc.OpenBox("1001"); open != "c2" {
		t.Errorf("server's open box %q, want c2", open)
	}

	// Logging out (the panel closes) closes the open box: the next
	// session's calls get theirs.
	a.notes.Close()
	if open := s.svc.OpenBox("1001"); open != "" {
		t.Errorf("box of %s left open after the panel closed", open)
	}

	// The notes are in the store on c1, the latest text.
	notes, err := s.svc.Notes(ctx, "13800138000")
	if err != nil || len(notes) != 2 || notes[0].CallID != "c1" || notes[0].Text != "Asked about delivery; wants it Friday" {
		t.Fatalf("stored notes %+v, %v", notes, err)
	}
}

// TestCallbacksAgainstRealServer: today's callbacks tab on the real API
// and CRM: create in the popped call, reschedule, the reminder reaching
// the tab through the event stream when the CRM's clock passes the due
// time, done when a completed call reaches the number, delete.
func TestCallbacksAgainstRealServer(t *testing.T) {
	t0 := time.Date(2025, 3, 4, 10, 0, 0, 0, time.UTC)
	s := newCRMServer(t, t0)
	ctx := context.Background()
	a := loginCRMAgent(t, s)
	a.callbacks.Load()
	eventually(t, "empty tab", func() bool { return getBool(a.callbacks.Empty) })

	rec := s.answered(t, "c1", "13800138000", "1001", t0)
	c1 := inboundFrom("c1", "13800138000")
	a.call(c1, CallRinging)
	a.call(c1, CallActive)
	eventually(t, "New callback offered", func() bool { return a.callbacks.CanCreate() })

	// In the past: the server's refusal reaches the dialog.
	errc := make(chan error, 1)
	a.callbacks.Create(t0.Add(-time.Minute), "x", func(err error) { errc <- err })
	if err := <-errc; err == nil || CreateError(err) != "The callback time must be in the future" {
		t.Errorf("past callback: %v (%q)", err, CreateError(err))
	}
	a.callbacks.Create(t0.Add(time.Hour), "  Send the quote ", func(err error) { errc <- err })
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	a.callbacks.Create(t0.Add(2*time.Hour), "Delivery date", func(err error) { errc <- err })
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	eventually(t, "two rows", func() bool { return len(callbackRows(a.callbacks.Rows)) == 2 })
	rows := callbackRows(a.callbacks.Rows)
	if r := rows[0]; r.When != "11:00" || r.Number != "13800138000" || r.Name != "张伟" || r.Remark != "Send the quote" || r.State != "Pending" || r.Due {
		t.Errorf("first row %+v", r)
	}
	stored, err := s.svc.Callbacks(ctx, "1001", t0)
	if err != nil || len(stored) != 2 || stored[0].CallID != "c1" {
		t.Fatalf("stored callbacks %+v, %v", stored, err)
	}

	// Reschedule the quote to 10:30: it is now the earlier one, and the
	// delivery one moves to 12:30 then is deleted.
	a.callbacks.Reschedule(rows[0], t0.Add(30*time.Minute))
	eventually(t, "rescheduled row", func() bool { return callbackRows(a.callbacks.Rows)[0].When == "10:30" })
	rows = callbackRows(a.callbacks.Rows)
	if rows[0].Remark != "Send the quote" || rows[1].When != "12:00" {
		t.Errorf("after reschedule %+v", rows)
	}
	a.callbacks.Delete(rows[1])
	eventually(t, "deleted row gone", func() bool { return len(callbackRows(a.callbacks.Rows)) == 1 })
	if stored, _ := s.svc.Callbacks(ctx, "1001", t0); len(stored) != 1 || stored[0].Remark != "Send the quote" {
		t.Errorf("stored after delete %+v", stored)
	}

	// The call ends; 10:31 comes: the CRM's poll sends callback_due, the
	// tab shows the reminder and raises the notification, once.
	s.ended(t, rec, t0.Add(time.Minute))
	a.call(c1, CallEnded)
	s.advance(31 * time.Minute)
	s.svc.Tick(ctx)
	eventually(t, "reminder", func() bool { return getStr(a.callbacks.Reminder) != "" })
	if r := getStr(a.callbacks.Reminder); r != "Callback due: 13800138000 · 张伟 · Send the quote" {
		t.Errorf("reminder %q", r)
	}
	eventually(t, "notification", func() bool { return len(a.reminded()) == 1 })
	if n := a.reminded()[0]; n != [2]string{"Callback due", "13800138000 · 张伟 · Send the quote"} {
		t.Errorf("notification %q", n)
	}
	a.bar.Tick()
	eventually(t, "due badge", func() bool { return getStr(a.callbacks.Badge) == "1 due" })
	s.svc.Tick(ctx) // reminded once only
	time.Sleep(100 * time.Millisecond)
	if n := len(a.reminded()); n != 1 {
		t.Errorf("%d notifications, want 1", n)
	}

	// Call now dials the number; the answered call makes it done, which
	// the server pushes (callback_done) and the reminder goes away.
	a.callbacks.CallReminder()
	if a.mu.Lock(); len(a.dialled) != 1 || a.dialled[0] != "13800138000" {
		t.Errorf("dialled %q", a.dialled)
	}
	a.mu.Unlock()
	if getStr(a.callbacks.Reminder) != "" {
		t.Error("reminder still shown after Call")
	}
	back := s.ended(t, s.answered(t, "c3", "13800138000", "1001", s.clock()), s.clock().Add(time.Minute))
	if err := s.svc.CallCompleted(ctx, back); err != nil {
		t.Fatal(err)
	}
	eventually(t, "callback done", func() bool {
		r := callbackRows(a.callbacks.Rows)
		return len(r) == 1 && r[0].Done && r[0].State == "Done"
	})
	if b := getStr(a.callbacks.Badge); b != "" {
		t.Errorf("badge %q after the callback was done", b)
	}

	// Yesterday's callback nobody called: the server expires it, and the
	// tab keeps it on today's plan (dated) until it is rescheduled.
	if _, err := s.st.CreateCallback(ctx, callcenter.Callback{Agent: "1001", Number: "02161234567", Remark: "Renewal",
		DueAt: t0.Add(-20 * time.Hour), State: callcenter.CallbackPending, CreatedAt: t0.Add(-48 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	a.callbacks.Load()
	eventually(t, "yesterday's expired callback", func() bool { return len(callbackRows(a.callbacks.Rows)) == 2 })
	old := callbackRows(a.callbacks.Rows)[0]
	if !old.Expired || old.State != "Expired" || old.When != "14:00" || old.Remark != "03-03 · Renewal" || old.Name != "Acme Ltd" {
		t.Fatalf("expired row %+v", old)
	}
	a.callbacks.Reschedule(old, s.clock().Add(time.Hour))
	eventually(t, "rescheduled to today", func() bool {
		r := callbackRows(a.callbacks.Rows)
		return len(r) == 2 && r[1].When == "11:31" && r[1].State == "Pending" && r[1].Remark == "Renewal"
	})
}
