package vm

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/test"

	"github.com/agentphone/agentphone/callcenter/api"
)

// workFixture is a popped inbound call c1 from 13800138000 with the
// in-call view-models following it, as the bar hands them events.
type workFixture struct {
	work      *fakeWork
	pop       *PopVM
	incall    *InCallVM
	notes     *NotesVM
	callbacks *CallbacksVM
	customer  *CustomerVM
	call      *fakeCall
	now       time.Time
	dialled   []string
	reminders [][2]string
	parts     []Part
}

func newWork(t *testing.T) *workFixture {
	test.NewTempApp(t)
	f := &workFixture{work: newFakeWork(), now: t9}
	clock := func() time.Time { return f.now }
	f.pop = NewPopVM(WithPopClock(clock, time.UTC))
	f.incall = NewInCallVM(f.work, f.pop)
	f.notes = NewNotesVM(f.work, f.pop, WithNotesClock(clock, time.UTC))
	f.callbacks = NewCallbacksVM(f.work, func(n string) { f.dialled = append(f.dialled, n) }, f.pop,
		WithCallbacksClock(clock, time.UTC),
		WithReminder(func(title, body string) { f.reminders = append(f.reminders, [2]string{title, body}) }))
	f.customer = NewCustomerVM(f.work, f.pop, WithCustomerClock(clock, time.UTC))
	t.Cleanup(f.incall.Close)
	t.Cleanup(f.notes.Close)
	t.Cleanup(f.callbacks.Close)
	t.Cleanup(f.customer.Close)
	f.parts = []Part{f.pop, f.incall, f.notes, f.callbacks, f.customer}
	return f
}

func (f *workFixture) wait() {
	f.incall.Wait()
	f.notes.Wait()
	f.callbacks.Wait()
	f.customer.Wait()
}

// phone hands a phone event to every part, in the bar's order.
func (f *workFixture) phone(c Call, st CallState) {
	if fc, ok := c.(*fakeCall); ok {
		fc.mu.Lock()
		fc.state = st
		fc.mu.Unlock()
	}
	for _, p := range f.parts {
		p.HandleCall(PhoneEvent{Kind: EventCall, Call: c, State: st})
	}
	f.wait()
}

func (f *workFixture) server(t *testing.T, typ string, v any) {
	t.Helper()
	ev := event(t, typ, f.now, v)
	for _, p := range f.parts {
		p.HandleServer(ev)
	}
	f.wait()
}

func newCall(id string) *fakeCall {
	return &fakeCall{dir: Inbound, remote: "sip:edge",
		headers: map[string]string{HeaderCallID: id, HeaderCaller: "13800138000", HeaderNumber: "4001234567"}}
}

// answer rings and answers a new call with server id id.
func (f *workFixture) answer(id string) *fakeCall {
	c := newCall(id)
	f.phone(c, CallRinging)
	f.phone(c, CallActive)
	f.call = c
	return c
}

type controls struct {
	Active, Held, CanHold, CanConsult, Consulting, CanFinish bool
	Kind                                                     BannerKind
	Banner                                                   string
}

func (f *workFixture) controls(t *testing.T) controls {
	m := f.incall
	k, _ := m.BannerKind.Get()
	return controls{boolean(t, m.Active), boolean(t, m.Held), boolean(t, m.CanHold), boolean(t, m.CanConsult),
		boolean(t, m.Consulting), boolean(t, m.CanFinishConsult), BannerKind(k), str(t, m.Banner)}
}

var (
	talking  = controls{Active: true, CanHold: true, CanConsult: true}
	custHeld = api.Party{Kind: "customer", ID: "13800138000", State: "held"}
)

func TestInCallControlsFollowTheCall(t *testing.T) {
	f := newWork(t)
	c := newCall("c1")
	f.phone(c, CallRinging)
	if got := f.controls(t); got != (controls{}) {
		t.Errorf("ringing: %+v, want no controls", got)
	}
	f.incall.ToggleHold()
	f.incall.OpenTransfer()
	f.wait()
	if r := f.work.requests(); len(r) != 1 || !strings.HasPrefix(r[0], "by-number") {
		t.Errorf("requests before the answer %v", r)
	}
	f.phone(c, CallActive)
	if got := f.controls(t); got != talking {
		t.Errorf("talking: %+v", got)
	}
	f.phone(c, CallEnded)
	if got := f.controls(t); got != (controls{}) {
		t.Errorf("ended: %+v", got)
	}
}

func TestInCallStateTransitions(t *testing.T) {
	consult := &api.Consult{Target: api.Target{Kind: api.TargetAgent, To: "1002"}, Name: "Han Meimei", State: "ringing"}
	answered := *consult
	answered.State = "talking"
	tests := []struct {
		name  string
		steps func(f *workFixture, t *testing.T)
		want  controls
		reqs  []string
		party [4]string // customer, its state, consulted party, its state
	}{
		{"hold", func(f *workFixture, t *testing.T) {
			f.work.control["hold"] = api.CallControl{State: api.ControlHeld, Parties: []api.Party{custHeld}}
			f.incall.ToggleHold()
		}, controls{Active: true, Held: true, CanHold: true, Kind: BannerHeld, Banner: "On hold · the customer hears music"},
			[]string{"hold c1"}, [4]string{"13800138000", "On hold", "", ""}},
		{"hold then resume", func(f *workFixture, t *testing.T) {
			f.work.control["hold"] = api.CallControl{State: api.ControlHeld}
			f.work.control["resume"] = api.CallControl{State: api.ControlTalking}
			f.incall.ToggleHold()
			f.wait()
			f.incall.ToggleHold()
		}, talking, []string{"hold c1", "resume c1"}, [4]string{"13800138000", "", "", ""}},
		{"consult ringing", func(f *workFixture, t *testing.T) {
			f.work.control["consult"] = api.CallControl{State: api.ControlConsulting, Parties: []api.Party{custHeld}, Consult: consult}
			f.incall.OpenConsult()
			f.wait()
			f.incall.Choose(api.Target{Kind: api.TargetAgent, To: "1002"})
		}, controls{Active: true, Consulting: true, Kind: BannerConsulting, Banner: "Consulting 1002 Han Meimei · customer held"},
			[]string{"targets", "consult c1 agent:1002"}, [4]string{"13800138000", "On hold", "1002 Han Meimei", "Ringing…"}},
		{"consulted party answers (control event)", func(f *workFixture, t *testing.T) {
			f.work.control["consult"] = api.CallControl{State: api.ControlConsulting, Consult: consult}
			f.incall.OpenConsult()
			f.wait()
			f.incall.Choose(api.Target{Kind: api.TargetAgent, To: "1002"})
			f.wait()
			f.server(t, api.EventControl, api.CallControl{CallID: "c1", State: api.ControlConsulting, Parties: []api.Party{custHeld}, Consult: &answered})
		}, controls{Active: true, Consulting: true, CanFinish: true, Kind: BannerConsulting, Banner: "Consulting 1002 Han Meimei · customer held"},
			[]string{"targets", "consult c1 agent:1002"}, [4]string{"13800138000", "On hold", "1002 Han Meimei", "Talking"}},
		{"three-way", func(f *workFixture, t *testing.T) {
			f.server(t, api.EventControl, api.CallControl{CallID: "c1", State: api.ControlConsulting, Consult: &answered})
			f.work.control["conference"] = api.CallControl{State: api.ControlConference}
			f.incall.Conference()
		}, controls{Active: true, Kind: BannerConference, Banner: "Three-way call · all hear all"},
			[]string{"conference c1"}, [4]string{"13800138000", "", "", ""}},
		{"cancel consult", func(f *workFixture, t *testing.T) {
			f.server(t, api.EventControl, api.CallControl{CallID: "c1", State: api.ControlConsulting, Consult: &answered})
			f.work.control["consult-cancel"] = api.CallControl{State: api.ControlTalking}
			f.incall.ConsultCancel()
		}, talking, []string{"consult-cancel c1"}, [4]string{"13800138000", "", "", ""}},
		{"consult steps refused when not consulting", func(f *workFixture, t *testing.T) {
			f.incall.Conference()
			f.incall.ConsultTransfer()
			f.incall.ConsultCancel()
		}, talking, nil, [4]string{"13800138000", "", "", ""}},
		{"blind transfer rings, fails, customer back with a notice", func(f *workFixture, t *testing.T) {
			f.work.control["transfer"] = api.CallControl{State: api.ControlTransferring, Consult: &api.Consult{Target: api.Target{Kind: api.TargetGroup, To: "sales"}, Name: "Sales", State: "queued"}}
			f.incall.OpenTransfer()
			f.wait()
			f.incall.Choose(api.Target{Kind: api.TargetGroup, To: "sales"})
			f.wait()
			if b := str(t, f.incall.Banner); b != "Transferring to sales Sales…" {
				t.Errorf("transferring banner %q", b)
			}
			f.server(t, api.EventControl, api.CallControl{CallID: "c1", State: api.ControlTalking,
				Notice: &api.Notice{Code: api.CodeNoAnswer, Message: "1002 did not answer; the customer is back with you"}})
		}, controls{Active: true, CanHold: true, CanConsult: true, Kind: BannerNotice, Banner: "Nobody in Sales answered; the customer is back with you"},
			[]string{"targets", "transfer c1 group:sales"}, [4]string{"13800138000", "", "", ""}},
		{"another call's control event is ignored", func(f *workFixture, t *testing.T) {
			f.server(t, api.EventControl, api.CallControl{CallID: "c9", State: api.ControlHeld})
		}, talking, nil, [4]string{"13800138000", "", "", ""}},
		{"hold refused: translated, no id", func(f *workFixture, t *testing.T) {
			f.work.errs["hold"] = &RefusedError{Reason: "you are not on call 0b5e4c1a-9f3e-4d2b-8c1a-2f4e6a8b0c1d", Code: api.CodeNotInCall}
			f.incall.ToggleHold()
			f.wait()
			if m := str(t, f.incall.Message); m != "You are no longer in this call" {
				t.Errorf("message %q", m)
			}
		}, talking, []string{"hold c1"}, [4]string{"13800138000", "", "", ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newWork(t)
			f.work.targets = api.TransferTargets{Agents: []api.TransferAgent{{WorkNumber: "1002", Name: "Han Meimei", Online: true, Status: "idle"}},
				Groups: []api.TransferGroup{{Name: "sales", Label: "Sales", Online: 2}}}
			f.answer("c1")
			tc.steps(f, t)
			f.wait()
			if got := f.controls(t); got != tc.want {
				t.Errorf("controls\n got %+v\nwant %+v", got, tc.want)
			}
			var reqs []string
			for _, r := range f.work.requests() {
				if !strings.HasPrefix(r, "by-number") && !strings.HasPrefix(r, "open ") {
					reqs = append(reqs, r)
				}
			}
			if !reflect.DeepEqual(reqs, tc.reqs) {
				t.Errorf("requests %q, want %q", reqs, tc.reqs)
			}
			got := [4]string{str(t, f.incall.CustomerParty), str(t, f.incall.CustomerState), str(t, f.incall.ConsultParty), str(t, f.incall.ConsultState)}
			if got != tc.party {
				t.Errorf("parties %q, want %q", got, tc.party)
			}
		})
	}
}

func untyped[T any](t *testing.T, l binding.UntypedList) []T {
	t.Helper()
	items, err := l.Get()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]T, len(items))
	for i, it := range items {
		out[i] = it.(T)
	}
	return out
}

func TestTransferDialog(t *testing.T) {
	f := newWork(t)
	f.work.targets = api.TransferTargets{
		Agents: []api.TransferAgent{
			{WorkNumber: "1002", Name: "Han Meimei", Online: true, Status: "idle"},
			{WorkNumber: "1003", Name: "Wang Fang", Online: true, Status: "talking"},
			{WorkNumber: "1004", Name: "Zhao Lei", Online: false, Status: "offline"},
			{WorkNumber: "1005", Name: "Sun Li", Online: true, Status: "Training"},
		},
		Groups: []api.TransferGroup{{Name: "sales", Label: "Sales", Waiting: 2, Online: 3}, {Name: "vip", Label: "VIP", Online: 0}},
	}
	f.answer("c1")
	f.incall.OpenTransfer()
	f.wait()
	if k, _ := f.incall.Dialog.Get(); DialogKind(k) != DialogTransfer {
		t.Fatalf("dialog %v", DialogKind(k))
	}
	wantAgents := []TargetAgent{
		{"1002", "Han Meimei", true, "Idle", true, ""},
		{"1003", "Wang Fang", true, "Talking", true, ""},
		{"1004", "Zhao Lei", false, "Offline", false, "1004 Zhao Lei is offline"},
		{"1005", "Sun Li", true, "Training", true, ""},
	}
	if got := untyped[TargetAgent](t, f.incall.Agents); !reflect.DeepEqual(got, wantAgents) {
		t.Errorf("agents\n got %+v\nwant %+v", got, wantAgents)
	}
	wantGroups := []TargetGroup{
		{"sales", "Sales", "2 waiting · 3 online", 2, 3, true},
		{"vip", "VIP", "0 waiting · 0 online", 0, 0, false},
	}
	if got := untyped[TargetGroup](t, f.incall.Groups); !reflect.DeepEqual(got, wantGroups) {
		t.Errorf("groups\n got %+v\nwant %+v", got, wantGroups)
	}

	for _, tc := range []struct {
		name    string
		target  api.Target
		err     error
		wantMsg string
		sent    bool
	}{
		{"offline agent refused here", api.Target{Kind: api.TargetAgent, To: "1004"}, nil, "1004 Zhao Lei is offline", false},
		{"group with nobody online refused here", api.Target{Kind: api.TargetGroup, To: "vip"}, nil, "Nobody in VIP is online", false},
		{"empty number", api.Target{Kind: api.TargetNumber, To: "  "}, nil, "Enter a number to call", false},
		{"server refuses: busy", api.Target{Kind: api.TargetAgent, To: "1003"},
			&RefusedError{Reason: "agent 1003 is busy", Code: api.CodeAgentBusy}, "1003 Wang Fang is busy", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.work.errs["transfer"] = tc.err
			before := len(f.work.requests())
			f.incall.Choose(tc.target)
			f.wait()
			if m := str(t, f.incall.DialogError); m != tc.wantMsg {
				t.Errorf("dialog error %q, want %q", m, tc.wantMsg)
			}
			if sent := len(f.work.requests()) > before; sent != tc.sent {
				t.Errorf("sent %v", sent)
			}
			if k, _ := f.incall.Dialog.Get(); DialogKind(k) != DialogTransfer {
				t.Errorf("dialog closed after a refusal")
			}
		})
	}

	// An outside number goes through; the dialog closes on success.
	f.work.errs["transfer"] = nil
	f.work.control["transfer"] = api.CallControl{State: api.ControlTransferring, Consult: &api.Consult{Target: api.Target{Kind: api.TargetNumber, To: "02161234567"}, State: "ringing"}}
	f.incall.Choose(api.Target{Kind: api.TargetNumber, To: " 02161234567 "})
	f.wait()
	if k, _ := f.incall.Dialog.Get(); DialogKind(k) != DialogNone || str(t, f.incall.DialogError) != "" {
		t.Errorf("dialog %v error %q after success", DialogKind(k), str(t, f.incall.DialogError))
	}
	if b := str(t, f.incall.Banner); b != "Transferring to 02161234567…" {
		t.Errorf("banner %q", b)
	}
	if r := f.work.requests(); r[len(r)-1] != "transfer c1 number:02161234567" {
		t.Errorf("last request %q", r[len(r)-1])
	}
}
