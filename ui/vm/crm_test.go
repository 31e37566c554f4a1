package vm

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
)

func TestNotesBoxRule(t *testing.T) {
	f := newWork(t)
	other := api.Note{ID: 1, CallID: "c0", Customer: "13800138000", Agent: "1002", AgentName: "Han Meimei", Text: "Wants the blue one",
		CreatedAt: t9.Add(-50 * time.Hour)}
	f.work.box = api.NoteBox{Customer: "13800138000", Notes: []api.Note{other}}

	// Ringing: no box yet (the server takes notes only once answered).
	c1 := newCall("c1")
	f.phone(c1, CallRinging)
	if boolean(t, f.notes.Visible) {
		t.Fatal("note box open while ringing")
	}
	f.phone(c1, CallActive)
	if !boolean(t, f.notes.Visible) || str(t, f.notes.Customer) != "13800138000" {
		t.Fatalf("box after answer: visible %v customer %q", boolean(t, f.notes.Visible), str(t, f.notes.Customer))
	}
	rows := untyped[NoteRow](t, f.notes.Rows)
	if len(rows) != 1 || rows[0].Editable || rows[0].Author != "1002 Han Meimei" || rows[0].When != "03-02 07:00" {
		t.Fatalf("rows %+v", rows)
	}
	f.notes.Edit(rows[0]) // another agent's: read-only
	if boolean(t, f.notes.Editing) {
		t.Error("editing another agent's note")
	}

	// Add, then edit our own.
	if boolean(t, f.notes.CanSave) {
		t.Error("can save an empty note")
	}
	f.notes.SetDraft("  Called about delivery  ")
	if !boolean(t, f.notes.CanSave) {
		t.Error("cannot save a note")
	}
	f.notes.Save()
	f.wait()
	rows = untyped[NoteRow](t, f.notes.Rows)
	if len(rows) != 2 || rows[0].Text != "Called about delivery" || !rows[0].Editable || str(t, f.notes.Draft) != "" {
		t.Fatalf("after add: %+v draft %q", rows, str(t, f.notes.Draft))
	}
	f.notes.Edit(rows[0])
	if str(t, f.notes.Draft) != "Called about delivery" || !boolean(t, f.notes.Editing) {
		t.Fatal("edit did not fill the box")
	}
	f.notes.SetDraft("Called about delivery; call back Friday")
	f.notes.Save()
	f.wait()
	rows = untyped[NoteRow](t, f.notes.Rows)
	if len(rows) != 2 || rows[0].Text != "Called about delivery; call back Friday" || !strings.HasSuffix(rows[0].When, "(edited)") || boolean(t, f.notes.Editing) {
		t.Fatalf("after edit: %+v", rows)
	}

	// The call ends: the box stays open until the agent closes it.
	f.phone(c1, CallEnded)
	if !boolean(t, f.notes.Visible) {
		t.Fatal("box closed with the call")
	}

	// The next call: the server refuses its box while c1's is open.
	f.work.errs["open"] = &RefusedError{Reason: "Close the previous call's note first", Code: api.CodeNoteBoxOpen}
	c2 := newCall("c2")
	f.phone(c2, CallRinging)
	f.phone(c2, CallActive)
	if msg := str(t, f.notes.Message); msg != "Close the previous call's note first" || !boolean(t, f.notes.ClosePrevious) {
		t.Fatalf("refusal: message %q button %v", msg, boolean(t, f.notes.ClosePrevious))
	}
	f.work.errs["open"] = nil
	f.notes.CloseBox()
	f.wait()
	want := []string{"open c1", "add c1 Called about delivery", "edit Called about delivery; call back Friday", "open c2", "close c1", "open c2"}
	var got []string
	for _, r := range f.work.requests() {
		if !strings.HasPrefix(r, "by-number") && !strings.HasPrefix(r, "callbacks") {
			got = append(got, r)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("requests\n got %q\nwant %q", got, want)
	}
	if !boolean(t, f.notes.Visible) || boolean(t, f.notes.ClosePrevious) || str(t, f.notes.Message) != "" {
		t.Errorf("after closing the previous box: visible %v button %v message %q", boolean(t, f.notes.Visible), boolean(t, f.notes.ClosePrevious), str(t, f.notes.Message))
	}

	// Notes before answering (after a transfer) are refused, translated.
	f.work.errs["add"] = &RefusedError{Reason: "you can add notes once you have answered the call", Code: api.CodeNotAnsweredYet}
	f.notes.SetDraft("x")
	f.notes.Save()
	f.wait()
	if msg := str(t, f.notes.Message); msg != "You can add notes once you have answered the call" {
		t.Errorf("add refused: %q", msg)
	}
	f.work.errs["add"] = nil
	f.notes.CloseBox()
	f.wait()
	if boolean(t, f.notes.Visible) {
		t.Error("box still open after Close")
	}
}

func TestNotesKeepTenNewest(t *testing.T) {
	f := newWork(t)
	var notes []api.Note
	for i := 10; i >= 1; i-- {
		notes = append(notes, api.Note{ID: int64(i), Agent: "1001", Text: "n", CreatedAt: t9.Add(-time.Duration(i) * time.Hour), Editable: true})
	}
	f.work.box = api.NoteBox{Customer: "13800138000", Notes: notes}
	f.answer("c1")
	f.notes.SetDraft("newest")
	f.notes.Save()
	f.wait()
	rows := untyped[NoteRow](t, f.notes.Rows)
	if len(rows) != MaxNotes || rows[0].Text != "newest" || rows[MaxNotes-1].ID != 9 {
		t.Errorf("%d rows, first %q, last id %d", len(rows), rows[0].Text, rows[len(rows)-1].ID)
	}
}

func TestCallbacksTab(t *testing.T) {
	f := newWork(t)
	f.now = t9.Add(6 * time.Hour) // 15:00
	at := func(h, m int) time.Time { return time.Date(2025, 3, 4, h, m, 0, 0, time.UTC) }
	f.work.cbs = []api.Callback{
		{ID: 3, Number: "13700137000", DueAt: at(16, 30), Remark: "quote", State: api.CallbackPending},
		{ID: 1, Number: "13800138000", Name: "张三", DueAt: at(9, 30), Remark: "delivery", State: api.CallbackExpired},
		{ID: 2, Number: "13900139000", DueAt: at(11, 0), State: api.CallbackDone},
		{ID: 4, Number: "13600136000", DueAt: at(14, 0), State: api.CallbackPending},
	}
	f.callbacks.Load()
	f.wait()
	if r := f.work.requests(); len(r) != 2 || r[0] != "callbacks 2025-03-04" || r[1] != "callbacks 2025-03-03" {
		t.Errorf("requests %q", r)
	}
	type line struct {
		When, Number, State string
		Expired, Due        bool
	}
	var got []line
	for _, r := range untyped[CallbackRow](t, f.callbacks.Rows) {
		got = append(got, line{r.When, r.Number, r.State, r.Expired, r.Due})
	}
	want := []line{
		{"09:30", "13800138000", "Expired", true, false},
		{"11:00", "13900139000", "Done", false, false},
		{"14:00", "13600136000", "Pending", false, true},
		{"16:30", "13700137000", "Pending", false, false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n got %+v\nwant %+v", got, want)
	}
	if b := str(t, f.callbacks.Badge); b != "1 due" {
		t.Errorf("badge %q", b)
	}

	// The reminder at 16:30: in the app and as a notification.
	f.now = at(16, 30)
	due := f.work.cbs[0]
	f.server(t, api.EventCallbackDue, due)
	if r := str(t, f.callbacks.Reminder); r != "Callback due: 13700137000 · quote" {
		t.Errorf("reminder %q", r)
	}
	if len(f.reminders) != 1 || f.reminders[0] != [2]string{"Callback due", "13700137000 · quote"} {
		t.Errorf("notifications %q", f.reminders)
	}
	if b := str(t, f.callbacks.Badge); b != "2 due" {
		t.Errorf("badge %q", b)
	}
	f.callbacks.CallReminder()
	if !reflect.DeepEqual(f.dialled, []string{"13700137000"}) || str(t, f.callbacks.Reminder) != "" {
		t.Errorf("call from reminder: dialled %q reminder %q", f.dialled, str(t, f.callbacks.Reminder))
	}
	// The call completes: the server says the callback is done.
	due.State, due.DoneCall = api.CallbackDone, "c7"
	f.server(t, api.EventCallbackDone, due)
	rows := untyped[CallbackRow](t, f.callbacks.Rows)
	if !rows[3].Done || rows[3].State != "Done" {
		t.Errorf("after done event %+v", rows[3])
	}

	// Call now, reschedule to tomorrow (leaves today's list), delete.
	f.callbacks.Call(rows[2])
	f.callbacks.Reschedule(rows[2], at(18, 0).AddDate(0, 0, 1))
	f.wait()
	f.callbacks.Delete(rows[0])
	f.wait()
	var left []int64
	for _, r := range untyped[CallbackRow](t, f.callbacks.Rows) {
		left = append(left, r.ID)
	}
	if !reflect.DeepEqual(left, []int64{2, 3}) || !reflect.DeepEqual(f.dialled, []string{"13700137000", "13600136000"}) {
		t.Errorf("left %v dialled %q", left, f.dialled)
	}

	// A refusal shows the server's words.
	f.work.errs["update-callback"] = &RefusedError{Reason: "The time is in the past", Code: api.CodeCallbackInvalid}
	f.callbacks.Reschedule(rows[1], at(8, 0))
	f.wait()
	if m := str(t, f.callbacks.Message); m != "The time is in the past" {
		t.Errorf("message %q", m)
	}
}

func TestNewCallbackFromTheCall(t *testing.T) {
	f := newWork(t)
	if f.callbacks.CanCreate() {
		t.Error("can create without a call")
	}
	f.answer("c1")
	if !f.callbacks.CanCreate() {
		t.Fatal("cannot create in a call")
	}
	var gotErr error
	f.callbacks.Create(t9.Add(2*time.Hour), " quote ", func(err error) { gotErr = err })
	f.wait()
	if gotErr != nil {
		t.Fatal(gotErr)
	}
	var reqs []string
	for _, r := range f.work.requests() {
		if strings.HasPrefix(r, "create-callback") {
			reqs = append(reqs, r)
		}
	}
	if !reflect.DeepEqual(reqs, []string{"create-callback c1 13800138000 11:00 quote"}) {
		t.Errorf("requests %q", reqs)
	}
	if rows := untyped[CallbackRow](t, f.callbacks.Rows); len(rows) != 1 || rows[0].When != "11:00" {
		t.Errorf("rows %+v", rows)
	}
	f.work.errs["create-callback"] = &RefusedError{Reason: "The time is in the past", Code: api.CodeCallbackInvalid}
	f.callbacks.Create(t9.Add(-time.Hour), "", func(err error) { gotErr = err })
	f.wait()
	if msg := CreateError(gotErr); msg != "The time is in the past" {
		t.Errorf("create error %q", msg)
	}
}

func TestCustomerCard(t *testing.T) {
	f := newWork(t)
	f.now = t9.Add(time.Hour)
	c := f.answer("c1")
	if !boolean(t, f.customer.Visible) || boolean(t, f.customer.Known) || !boolean(t, f.customer.CanAdd) {
		t.Fatalf("unknown caller: visible %v known %v can add %v", boolean(t, f.customer.Visible), boolean(t, f.customer.Known), boolean(t, f.customer.CanAdd))
	}
	if e := str(t, f.customer.TrackEmpty); e != "" {
		t.Errorf("unknown caller: empty history line %q", e)
	}
	var err error
	f.customer.AddToMine("  ", func(e error) { err = e })
	if SaveError(err) != "Enter the customer's name" {
		t.Errorf("empty name: %v", err)
	}
	f.customer.AddToMine("张三", func(e error) { err = e })
	f.wait()
	if err != nil {
		t.Fatal(err)
	}
	if !boolean(t, f.customer.Known) || boolean(t, f.customer.CanAdd) || str(t, f.customer.Name) != "张三" || str(t, f.customer.Owner) != "1001" {
		t.Errorf("after add: known %v can add %v name %q", boolean(t, f.customer.Known), boolean(t, f.customer.CanAdd), str(t, f.customer.Name))
	}
	// A new card has no history: a line says so under the heading.
	if e := str(t, f.customer.TrackEmpty); len(untyped[TrackRow](t, f.customer.Track)) != 0 || e != "No calls, notes or callbacks yet" {
		t.Errorf("new card: track %d rows, empty line %q", len(untyped[TrackRow](t, f.customer.Track)), e)
	}

	// The card with history, edited.
	f.work.card = &api.CustomerCard{
		Customer: api.Customer{ID: 7, Name: "张三", Numbers: []string{"13800138000", "02161234567"}, Company: "上海某某贸易",
			Tags: []string{"VIP", "复购"}, Fields: map[string]string{"城市": "上海", "Level": "Gold"}, Owner: "1001"},
		Calls: []api.CallRecord{{CallID: "c0", Type: "inbound", StartedAt: t9.Add(-26 * time.Hour), AnsweredAt: t9.Add(-26 * time.Hour), DurationSec: 133, Result: "answered", Agent: "1002"},
			{CallID: "cm", Type: "inbound", StartedAt: t9.Add(-2 * time.Hour), Result: "missed"}},
		Notes:     []api.Note{{ID: 1, Agent: "1002", AgentName: "Han Meimei", Text: "Wants the blue one", CreatedAt: t9.Add(-25 * time.Hour)}},
		Callbacks: []api.Callback{{ID: 1, DueAt: t9.Add(-20 * time.Hour), Remark: "delivery", State: api.CallbackExpired, CreatedAt: t9.Add(-24 * time.Hour)}},
	}
	f.customer.Reload()
	f.wait()
	if str(t, f.customer.Numbers) != "13800138000, 02161234567" || str(t, f.customer.Tags) != "VIP · 复购" || str(t, f.customer.Company) != "上海某某贸易" {
		t.Errorf("card %q %q %q", str(t, f.customer.Numbers), str(t, f.customer.Tags), str(t, f.customer.Company))
	}
	if fl := untyped[Field](t, f.customer.Fields); !reflect.DeepEqual(fl, []Field{{"Level", "Gold"}, {"城市", "上海"}}) {
		t.Errorf("fields %+v", fl)
	}
	var track []string
	for _, r := range untyped[TrackRow](t, f.customer.Track) {
		track = append(track, r.When+" "+r.Kind+" "+r.Text)
	}
	wantTrack := []string{
		"07:00 Call Missed",
		"03-03 09:00 Callback Expired · 03-03 13:00 · delivery",
		"03-03 08:00 Note 1002 Han Meimei: Wants the blue one",
		"03-03 07:00 Call Inbound · 02:13 · 1002",
	}
	if !reflect.DeepEqual(track, wantTrack) {
		t.Errorf("track\n got %q\nwant %q", track, wantTrack)
	}
	if e := str(t, f.customer.TrackEmpty); e != "" {
		t.Errorf("card with history: empty line %q", e)
	}
	edit := f.customer.Card()
	edit.Company, edit.Tags, edit.Fields = "新公司", SplitList("VIP，大客户"), ParseFields(FormatFields(edit.Fields)+"\n备注：周五回访")
	f.customer.Save(edit, func(e error) { err = e })
	f.wait()
	if err != nil || str(t, f.customer.Company) != "新公司" || str(t, f.customer.Tags) != "VIP · 大客户" {
		t.Errorf("after edit: err %v company %q tags %q", err, str(t, f.customer.Company), str(t, f.customer.Tags))
	}
	if u := f.work.updated; len(u) != 1 || u[0].ID != 7 || u[0].Fields["备注"] != "周五回访" || u[0].Fields["城市"] != "上海" {
		t.Errorf("update sent %+v", u)
	}

	// The card goes with the pop.
	f.phone(c, CallEnded)
	f.pop.Dismiss()
	f.customer.HandleCall(PhoneEvent{})
	if boolean(t, f.customer.Visible) || str(t, f.customer.Name) != "" {
		t.Errorf("after dismiss: visible %v name %q", boolean(t, f.customer.Visible), str(t, f.customer.Name))
	}
}
