package storetest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// The conformance tests of store.InCall (issue 4) and the parent link of
// call records.

func testCallRecordParent(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	cust := rec("cust", t0)
	consult := rec("consult", t0.Add(time.Minute))
	consult.Type, consult.Caller, consult.Callee, consult.Agent, consult.ParentID = callcenter.CallInternal, "1001", "1002", "1001", "cust"
	transfer := rec("transfer", t0.Add(2*time.Minute))
	transfer.Agent = "1002"
	other := rec("other", t0.Add(3*time.Minute))
	other.Caller = "13900000000"
	for _, r := range []callcenter.CallRecord{cust, consult, other} {
		if err := s.BeginCallRecord(ctx, answered(r, r.StartedAt, "PCMU")); err != nil {
			t.Fatal(err)
		}
	}
	// The transfer leg's parent arrives with its end: End fills it in.
	if err := s.BeginCallRecord(ctx, answered(transfer, transfer.StartedAt, "PCMU")); err != nil {
		t.Fatal(err)
	}
	transfer.ParentID = "cust"
	if err := s.EndCallRecord(ctx, ended(transfer, t0.Add(5*time.Minute), callcenter.ResultAnswered, callcenter.PartyCaller)); err != nil {
		t.Fatal(err)
	}
	got, err := s.CallRecord(ctx, "consult")
	if err != nil || got.ParentID != "cust" {
		t.Fatalf("consult record = %+v, %v; want parent cust", got, err)
	}
	if got, _ := s.CallRecord(ctx, "transfer"); got.ParentID != "cust" {
		t.Fatalf("transfer record parent = %q after End, want cust", got.ParentID)
	}
	ids := func(f callcenter.RecordFilter) []string {
		t.Helper()
		recs, err := s.CallRecords(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range recs {
			out = append(out, r.CallID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    callcenter.RecordFilter
		want []string
	}{
		{"parent", callcenter.RecordFilter{ParentID: "cust"}, []string{"transfer", "consult"}},
		{"parent and agent", callcenter.RecordFilter{ParentID: "cust", Agent: "1002"}, []string{"transfer"}},
		{"parent none", callcenter.RecordFilter{ParentID: "other"}, nil},
		{"numbers caller", callcenter.RecordFilter{Numbers: []string{"13900000000"}}, []string{"other"}},
		{"numbers callee", callcenter.RecordFilter{Numbers: []string{"1002"}}, []string{"consult"}},
		{"numbers several", callcenter.RecordFilter{Numbers: []string{"13800138000", "13900000000"}, Limit: 2}, []string{"other", "transfer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(tc.f); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("CallRecords(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}
	self := rec("self", t0)
	self.ParentID = "self"
	if err := s.BeginCallRecord(ctx, self); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("record that is its own parent: err = %v, want ErrInvalid", err)
	}
}

func testNotes(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	var added []callcenter.Note
	for i := range 12 {
		n, err := s.AddNote(ctx, callcenter.Note{CallID: "c" + string(rune('a'+i)), Customer: "13800138000", Agent: "1001",
			Text: "note " + string(rune('a'+i)), CreatedAt: t0.Add(time.Duration(i) * time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		if n.ID == 0 || n.CreatedAt.Location() != time.UTC {
			t.Fatalf("added %+v: want ID and UTC time", n)
		}
		added = append(added, n)
	}
	other, err := s.AddNote(ctx, callcenter.Note{CallID: "ca", Customer: "13900000000", Agent: "1002", Text: "多行\n备注"})
	if err != nil {
		t.Fatal(err)
	}
	if other.CreatedAt.IsZero() {
		t.Fatal("CreatedAt not defaulted")
	}
	if got, err := s.Note(ctx, added[3].ID); err != nil || got != added[3] {
		t.Fatalf("Note = %+v, %v; want %+v", got, err, added[3])
	}
	if _, err := s.Note(ctx, 9999); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("unknown note err = %v, want ErrNotFound", err)
	}
	ten, err := s.Notes(ctx, callcenter.NoteFilter{Customers: []string{"13800138000"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(ten) != 10 || ten[0] != added[11] || ten[9] != added[2] {
		t.Fatalf("10 newest = %+v", ten)
	}
	both, err := s.Notes(ctx, callcenter.NoteFilter{Customers: []string{"13800138000", "13900000000"}})
	if err != nil || len(both) != 13 {
		t.Fatalf("notes of two numbers: %d, %v; want 13", len(both), err)
	}
	byCall, err := s.Notes(ctx, callcenter.NoteFilter{CallID: "ca"})
	if err != nil || len(byCall) != 2 || byCall[0] != other || byCall[1] != added[0] {
		t.Fatalf("notes of call ca = %+v, %v", byCall, err)
	}

	edited, err := s.EditNote(ctx, added[0].ID, "fixed", t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := added[0]
	want.Text, want.UpdatedAt = "fixed", t0.Add(time.Hour).UTC()
	if edited != want {
		t.Fatalf("edited = %+v, want %+v", edited, want)
	}
	if _, err := s.EditNote(ctx, 9999, "x", t0); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("edit unknown note err = %v, want ErrNotFound", err)
	}
	long := strings.Repeat("字", callcenter.MaxNoteLen+1)
	for _, tc := range []struct {
		name string
		n    callcenter.Note
	}{
		{"no call", callcenter.Note{Customer: "13800138000", Agent: "1001", Text: "x"}},
		{"bad agent", callcenter.Note{CallID: "c", Agent: "10 01", Text: "x"}},
		{"bad customer", callcenter.Note{CallID: "c", Customer: "abc", Agent: "1001", Text: "x"}},
		{"blank", callcenter.Note{CallID: "c", Agent: "1001", Text: " \n "}},
		{"too long", callcenter.Note{CallID: "c", Agent: "1001", Text: long}},
		{"control", callcenter.Note{CallID: "c", Agent: "1001", Text: "a\x00b"}},
		{"bad utf-8", callcenter.Note{CallID: "c", Agent: "1001", Text: "a\xffb"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.AddNote(ctx, tc.n); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("AddNote err = %v, want ErrInvalid", err)
			}
			if tc.n.Text == "x" {
				return // the text is fine, the note around it is not
			}
			if _, err := s.EditNote(ctx, added[0].ID, tc.n.Text, t0); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("EditNote err = %v, want ErrInvalid", err)
			}
		})
	}
	// Bad input changed nothing.
	if got, _ := s.Note(ctx, added[0].ID); got != want {
		t.Fatalf("after bad edits: %+v, want %+v", got, want)
	}
	if all, _ := s.Notes(ctx, callcenter.NoteFilter{}); len(all) != 13 {
		t.Fatalf("after bad adds: %d notes, want 13", len(all))
	}
	if _, err := s.Notes(ctx, callcenter.NoteFilter{Limit: -1}); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("negative limit err = %v", err)
	}
}

func testCallbacks(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	mk := func(agent, number string, due time.Time) callcenter.Callback {
		t.Helper()
		cb, err := s.CreateCallback(ctx, callcenter.Callback{Agent: agent, Number: number, CallID: "c1", DueAt: due,
			Remark: "call back about the order", CreatedAt: t0})
		if err != nil {
			t.Fatal(err)
		}
		return cb
	}
	a := mk("1001", "13800138000", t0.Add(time.Hour))
	b := mk("1001", "13800138000", t0.Add(2*time.Hour))
	c := mk("1001", "13900000000", t0.Add(30*time.Minute))
	d := mk("1002", "13800138000", t0.Add(time.Hour))
	tomorrow := mk("1001", "13700000000", t0.Add(24*time.Hour))
	if a.ID == 0 || a.State != callcenter.CallbackPending || a.DueAt.Location() != time.UTC {
		t.Fatalf("created %+v", a)
	}
	if got, err := s.Callback(ctx, a.ID); err != nil || got != a {
		t.Fatalf("Callback = %+v, %v; want %+v", got, err, a)
	}
	if _, err := s.Callback(ctx, 9999); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("unknown callback err = %v", err)
	}
	ids := func(f callcenter.CallbackFilter) []int64 {
		t.Helper()
		cbs, err := s.Callbacks(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, cb := range cbs {
			out = append(out, cb.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    callcenter.CallbackFilter
		want []int64
	}{
		{"agent's day", callcenter.CallbackFilter{Agent: "1001", DueFrom: t0, DueUntil: t0.Add(12 * time.Hour)}, []int64{c.ID, a.ID, b.ID}},
		{"number", callcenter.CallbackFilter{Numbers: []string{"13800138000"}}, []int64{a.ID, d.ID, b.ID}},
		{"due now", callcenter.CallbackFilter{States: []callcenter.CallbackState{callcenter.CallbackPending}, Unreminded: true, DueUntil: t0.Add(time.Hour + 1)}, []int64{c.ID, a.ID, d.ID}},
		{"limit", callcenter.CallbackFilter{Agent: "1001", Limit: 1}, []int64{c.ID}},
		{"done none", callcenter.CallbackFilter{States: []callcenter.CallbackState{callcenter.CallbackDone}}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := ids(tc.f); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Callbacks(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}

	// Exactly one of many concurrent reminders wins.
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.MarkCallbackReminded(ctx, c.ID, t0.Add(30*time.Minute))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d reminders marked, want 1", wins)
	}
	if _, err := s.MarkCallbackReminded(ctx, 9999, t0); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("remind unknown err = %v", err)
	}
	if got := ids(callcenter.CallbackFilter{Unreminded: true, DueUntil: t0.Add(time.Hour)}); len(got) != 0 {
		t.Fatalf("unreminded before +1h = %v, want none", got)
	}

	// A call answered before b was created does not complete it; one after
	// completes every pending callback of that agent to that number.
	late := mk("1001", "13800138000", t0.Add(3*time.Hour))
	lateCreated, _ := s.UpdateCallback(ctx, late) // no change
	if lateCreated != late {
		t.Fatalf("no-op update = %+v, want %+v", lateCreated, late)
	}
	if done, err := s.CompleteCallbacks(ctx, "1001", "13800138000", "call-x", t0.Add(-time.Second)); err != nil || len(done) != 0 {
		t.Fatalf("complete with a call before creation = %+v, %v", done, err)
	}
	done, err := s.CompleteCallbacks(ctx, "1001", "13800138000", "call-y", t0.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 3 || done[0].ID != a.ID || done[1].ID != b.ID || done[2].ID != late.ID ||
		done[0].State != callcenter.CallbackDone || done[0].DoneCall != "call-y" {
		t.Fatalf("completed %+v, want a, b, late done by call-y", done)
	}
	if got, _ := s.Callback(ctx, d.ID); got.State != callcenter.CallbackPending {
		t.Fatalf("another agent's callback to the number: %v, want pending", got.State)
	}
	if again, err := s.CompleteCallbacks(ctx, "1001", "13800138000", "call-z", t0.Add(time.Hour)); err != nil || len(again) != 0 {
		t.Fatalf("second completion = %+v, %v; want none", again, err)
	}

	// Expiry: pending ones due before the bound only.
	exp, err := s.ExpireCallbacks(ctx, t0.Add(12*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(exp) != 2 || exp[0].ID != c.ID || exp[1].ID != d.ID || exp[0].State != callcenter.CallbackExpired {
		t.Fatalf("expired %+v, want c, d", exp)
	}
	if got, _ := s.Callback(ctx, tomorrow.ID); got.State != callcenter.CallbackPending {
		t.Fatalf("tomorrow's callback %v, want pending", got.State)
	}

	// Reschedule: new time and remark, pending again, reminder cleared.
	re := exp[0]
	re.DueAt, re.Remark, re.State, re.Reminded = t0.Add(25*time.Hour), "new remark", callcenter.CallbackPending, time.Time{}
	got, err := s.UpdateCallback(ctx, re)
	if err != nil {
		t.Fatal(err)
	}
	re.DueAt = re.DueAt.UTC()
	if got != re {
		t.Fatalf("rescheduled %+v, want %+v", got, re)
	}
	unknown := re
	unknown.ID = 9999
	if _, err := s.UpdateCallback(ctx, unknown); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("update unknown err = %v", err)
	}

	for _, tc := range []struct {
		name string
		mut  func(*callcenter.Callback)
	}{
		{"bad number", func(cb *callcenter.Callback) { cb.Number = "12a" }},
		{"no due", func(cb *callcenter.Callback) { cb.DueAt = time.Time{} }},
		{"state 9", func(cb *callcenter.Callback) { cb.State = 9 }},
		{"long remark", func(cb *callcenter.Callback) { cb.Remark = strings.Repeat("x", callcenter.MaxRemarkLen+1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := re
			tc.mut(&bad)
			if _, err := s.UpdateCallback(ctx, bad); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("UpdateCallback err = %v, want ErrInvalid", err)
			}
			bad.ID = 0
			if _, err := s.CreateCallback(ctx, bad); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("CreateCallback err = %v, want ErrInvalid", err)
			}
		})
	}
	if _, err := s.CreateCallback(ctx, callcenter.Callback{Number: "13800138000", DueAt: t0}); !errors.Is(err, callcenter.ErrInvalid) {
		t.Fatalf("callback without agent err = %v", err)
	}
	if got2, _ := s.Callback(ctx, re.ID); got2 != re {
		t.Fatalf("after bad updates %+v, want %+v", got2, re)
	}
	if all := ids(callcenter.CallbackFilter{}); len(all) != 6 {
		t.Fatalf("after bad creates %d callbacks, want 6", len(all))
	}

	if err := s.DeleteCallback(ctx, re.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteCallback(ctx, re.ID); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("second delete err = %v, want ErrNotFound", err)
	}
}

func testCustomers(t *testing.T, open Opener) {
	ctx := context.Background()
	s := open(t)
	zhang, err := s.CreateCustomer(ctx, callcenter.Customer{Name: "张伟", Numbers: []string{"13800138000", "02161234567"},
		Company: "Acme 上海", Tags: []string{"vip", "回访"}, Fields: map[string]string{"city": "Shanghai"}, Owner: "1001", CreatedAt: t0})
	if err != nil {
		t.Fatal(err)
	}
	if zhang.ID == 0 || !zhang.UpdatedAt.Equal(t0) || zhang.CreatedAt.Location() != time.UTC {
		t.Fatalf("created %+v", zhang)
	}
	li, err := s.CreateCustomer(ctx, callcenter.Customer{Name: "Li Na", Numbers: []string{"+8613912345678"}, Owner: "1002"})
	if err != nil {
		t.Fatal(err)
	}
	if li.Tags != nil || li.Fields != nil {
		t.Fatalf("empty tags and fields read as %v, %v; want nil", li.Tags, li.Fields)
	}
	// The same number may be in another agent's library, not twice in one.
	dup, err := s.CreateCustomer(ctx, callcenter.Customer{Name: "Zhang Wei (Bob's)", Numbers: []string{"13800138000"}, Owner: "1002"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateCustomer(ctx, callcenter.Customer{Name: "again", Numbers: []string{"02161234567"}, Owner: "1001"}); !errors.Is(err, callcenter.ErrExists) {
		t.Fatalf("owner's number twice: err = %v, want ErrExists", err)
	}
	if got, err := s.Customer(ctx, zhang.ID); err != nil || !reflect.DeepEqual(got, zhang) {
		t.Fatalf("Customer = %+v, %v; want %+v", got, err, zhang)
	}
	if _, err := s.Customer(ctx, 9999); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("unknown customer err = %v", err)
	}

	names := func(f callcenter.CustomerFilter) []string {
		t.Helper()
		cs, err := s.Customers(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		f    callcenter.CustomerFilter
		want []string
	}{
		{"all", callcenter.CustomerFilter{}, []string{"Li Na", "Zhang Wei (Bob's)", "张伟"}},
		{"name substring", callcenter.CustomerFilter{Query: "wei"}, []string{"Zhang Wei (Bob's)"}},
		{"chinese name", callcenter.CustomerFilter{Query: "伟"}, []string{"张伟"}},
		{"number prefix", callcenter.CustomerFilter{Query: "021"}, []string{"张伟"}},
		{"number suffix", callcenter.CustomerFilter{Query: "8000"}, []string{"Zhang Wei (Bob's)", "张伟"}},
		{"plus prefix", callcenter.CustomerFilter{Query: "+86139"}, []string{"Li Na"}},
		{"middle digits", callcenter.CustomerFilter{Query: "0013"}, nil},
		{"wildcard is literal", callcenter.CustomerFilter{Query: "%"}, nil},
		{"owner", callcenter.CustomerFilter{Owner: "1002"}, []string{"Li Na", "Zhang Wei (Bob's)"}},
		{"owner and query", callcenter.CustomerFilter{Owner: "1001", Query: "138"}, []string{"张伟"}},
		{"number", callcenter.CustomerFilter{Number: "13800138000"}, []string{"Zhang Wei (Bob's)", "张伟"}},
		{"limit", callcenter.CustomerFilter{Limit: 1}, []string{"Li Na"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := names(tc.f); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Customers(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		})
	}

	up := zhang
	up.Name, up.Numbers, up.Tags, up.Fields, up.UpdatedAt = "张伟 Zhang", []string{"02161234567", "13700000000"}, nil, nil, t0.Add(time.Hour)
	got, err := s.UpdateCustomer(ctx, up)
	if err != nil {
		t.Fatal(err)
	}
	up.UpdatedAt = up.UpdatedAt.UTC()
	if !reflect.DeepEqual(got, up) {
		t.Fatalf("updated %+v, want %+v", got, up)
	}
	if rb, _ := s.Customer(ctx, zhang.ID); !reflect.DeepEqual(rb, up) {
		t.Fatalf("read back %+v, want %+v", rb, up)
	}
	if got := names(callcenter.CustomerFilter{Number: "13800138000"}); !reflect.DeepEqual(got, []string{"Zhang Wei (Bob's)"}) {
		t.Fatalf("old number still finds %v", got)
	}
	unknown := up
	unknown.ID = 9999
	if _, err := s.UpdateCustomer(ctx, unknown); !errors.Is(err, callcenter.ErrNotFound) {
		t.Fatalf("update unknown err = %v", err)
	}
	clash := dup
	clash.Numbers = []string{"13800138000", "+8613912345678"} // Li Na's, also 1002's
	if _, err := s.UpdateCustomer(ctx, clash); !errors.Is(err, callcenter.ErrExists) {
		t.Fatalf("update onto another customer's number of the owner: err = %v, want ErrExists", err)
	}

	manyFields := map[string]string{}
	for i := range callcenter.MaxFields + 1 {
		manyFields[string(rune('a'+i))] = "v"
	}
	for _, tc := range []struct {
		name string
		mut  func(*callcenter.Customer)
	}{
		{"no name", func(c *callcenter.Customer) { c.Name = " " }},
		{"no numbers", func(c *callcenter.Customer) { c.Numbers = nil }},
		{"bad number", func(c *callcenter.Customer) { c.Numbers = []string{"13800138000", "x"} }},
		{"number twice", func(c *callcenter.Customer) { c.Numbers = []string{"02161234567", "02161234567"} }},
		{"bad owner", func(c *callcenter.Customer) { c.Owner = "" }},
		{"empty tag", func(c *callcenter.Customer) { c.Tags = []string{""} }},
		{"too many fields", func(c *callcenter.Customer) { c.Fields = manyFields }},
		{"long company", func(c *callcenter.Customer) { c.Company = strings.Repeat("c", callcenter.MaxCompanyLen+1) }},
		{"control in field", func(c *callcenter.Customer) { c.Fields = map[string]string{"a\x01": "v"} }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := up
			tc.mut(&bad)
			if _, err := s.UpdateCustomer(ctx, bad); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("UpdateCustomer err = %v, want ErrInvalid", err)
			}
			bad.ID = 0
			if _, err := s.CreateCustomer(ctx, bad); !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("CreateCustomer err = %v, want ErrInvalid", err)
			}
		})
	}
	if rb, _ := s.Customer(ctx, zhang.ID); !reflect.DeepEqual(rb, up) {
		t.Fatalf("after bad updates %+v, want %+v", rb, up)
	}
	if rb, _ := s.Customer(ctx, dup.ID); !reflect.DeepEqual(rb, dup) {
		t.Fatalf("after refused clash %+v, want %+v", rb, dup)
	}
	if all := names(callcenter.CustomerFilter{}); len(all) != 3 {
		t.Fatalf("after bad creates: %v", all)
	}
}
