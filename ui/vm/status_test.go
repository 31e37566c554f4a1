package vm

import (
	"fmt"
	"reflect"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/agentphone/agentphone/callcenter/api"
)

var t9 = time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)

type statusFixture struct {
	*StatusVM
	center  *fakeCenter
	now     time.Time
	applied []api.AgentStatus
	local   []bool
}

func newStatus(t *testing.T, opts ...StatusOption) *statusFixture {
	t.Helper()
	test.NewTempApp(t)
	f := &statusFixture{center: &fakeCenter{}, now: t9}
	opts = append([]StatusOption{
		WithStatusClock(func() time.Time { return f.now }),
		WithStatusApplied(func(st api.AgentStatus) { f.applied = append(f.applied, st) }),
		WithLocalAutoAnswer(func(on bool) { f.local = append(f.local, on) }),
	}, opts...)
	f.StatusVM = NewStatusVM(f.center, opts...)
	t.Cleanup(f.Close)
	return f
}

// snapshot sends a snapshot whose server clock is skew behind ours.
func (f *statusFixture) snapshot(t *testing.T, st *api.AgentStatus, skew time.Duration) {
	f.HandleServer(event(t, api.EventSnapshot, f.now.Add(-skew), api.Snapshot{
		Agent: api.Agent{WorkNumber: "1001"}, Status: st,
		Figures:  &api.Figures{TalkTimeSec: 125, Calls: 3, BusyTotalSec: 600, IdleTotalSec: 1800, Missed: 1},
		Groups:   []api.Group{{Name: "sales", Label: "售前咨询", Waiting: 2, LongestWaitSec: 65, Idle: 1, Busy: 2, Talking: 3}, {Name: "vip", Waiting: 1, LongestWaitSec: 5}},
		Statuses: []api.CustomStatus{{Name: "meeting", Label: "Meeting"}, {Name: "break", Label: "Break"}},
	}))
}

func (f *statusFixture) advance(d time.Duration) {
	f.now = f.now.Add(d)
	f.Tick()
}

func TestStatusShowsServerStatusWithTimer(t *testing.T) {
	for _, tc := range []struct {
		name   string
		st     api.AgentStatus
		status string
		tone   Tone
		acw    string
	}{
		{"idle", api.AgentStatus{Presence: "online", Phone: "idle"}, "Idle 01:10", ToneIdle, ""},
		{"busy", api.AgentStatus{Presence: "online", Phone: "busy"}, "Busy 01:10", ToneBusy, ""},
		{"custom shows its label", api.AgentStatus{Presence: "custom", Custom: "meeting", Phone: "busy"}, "Meeting 01:10", ToneBusy, ""},
		{"unknown custom shows its name", api.AgentStatus{Presence: "custom", Custom: "lunch"}, "lunch 01:10", ToneBusy, ""},
		{"offline", api.AgentStatus{Presence: "offline", Phone: "busy"}, "Offline 01:10", ToneOffline, ""},
		{"ringing", api.AgentStatus{Presence: "online", Phone: "idle", Activity: "ringing"}, "Ringing 01:10", ToneCall, ""},
		{"talking", api.AgentStatus{Presence: "online", Phone: "idle", Activity: "talking"}, "Talking 01:10", ToneCall, ""},
		{"after-call work counts down", api.AgentStatus{Presence: "online", Phone: "idle", Activity: "acw", ACWUntil: t9.Add(-3*time.Second + 90*time.Second)}, "After-call work 01:10", ToneACW, "01:20"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStatus(t)
			if sup := boolean(t, f.Supported); sup {
				t.Fatal("supported before any status")
			}
			// The server's clock is 3 s behind ours; since was 60 s ago by its clock.
			st := tc.st
			st.Since = t9.Add(-3*time.Second - 60*time.Second)
			f.snapshot(t, &st, 3*time.Second)
			f.advance(10 * time.Second)
			if got := str(t, f.Status); got != tc.status {
				t.Errorf("status = %q, want %q", got, tc.status)
			}
			if got, _ := f.Tone.Get(); Tone(got) != tc.tone {
				t.Errorf("tone = %v, want %v", Tone(got), tc.tone)
			}
			if got := str(t, f.ACWLeft); got != tc.acw {
				t.Errorf("ACW left = %q, want %q", got, tc.acw)
			}
			if boolean(t, f.InACW) != (tc.acw != "") {
				t.Errorf("InACW = %v", boolean(t, f.InACW))
			}
			if !boolean(t, f.Supported) || len(f.applied) != 1 {
				t.Errorf("supported %v, applied %d times", boolean(t, f.Supported), len(f.applied))
			}
		})
	}
}

func TestStatusChoicesSendChangesAndRestartTimer(t *testing.T) {
	ptr := func(s string) *string { return &s }
	for _, tc := range []struct {
		label  string
		change api.StatusChange
		status string
	}{
		{"Idle", api.StatusChange{Presence: ptr("online"), Phone: ptr("idle")}, "Idle 00:02"},
		{"Meeting", api.StatusChange{Presence: ptr("custom"), Custom: ptr("meeting")}, "Meeting 00:02"},
		{"Break", api.StatusChange{Presence: ptr("custom"), Custom: ptr("break")}, "Break 00:02"},
		{"Offline", api.StatusChange{Presence: ptr("offline")}, "Offline 00:02"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			f := newStatus(t)
			f.snapshot(t, &api.AgentStatus{Presence: "online", Phone: "busy", Since: t9.Add(-time.Hour)}, 0)
			f.center.status = api.AgentStatus{Presence: "online", Phone: "busy"}
			var labels []string
			var choice StatusChoice
			for _, c := range f.Choices() {
				labels = append(labels, fmt.Sprintf("%s:%v", c.Label, c.Current))
				if c.Label == tc.label {
					choice = c
				}
			}
			want := []string{"Idle:false", "Busy:true", "Meeting:false", "Break:false", "Offline:false"}
			if !reflect.DeepEqual(labels, want) {
				t.Fatalf("choices %v, want %v", labels, want)
			}
			// The server dates the new status now: the timer restarts.
			f.center.status.Since = t9
			f.Choose(choice)
			f.wg.Wait()
			got, n := f.center.lastChange()
			if n != 1 || !reflect.DeepEqual(got, tc.change) {
				t.Errorf("sent %d changes, last %+v, want %+v", n, got, tc.change)
			}
			f.advance(2 * time.Second)
			if s := str(t, f.Status); s != tc.status {
				t.Errorf("status = %q, want %q", s, tc.status)
			}
			for _, c := range f.Choices() {
				if c.Current != (c.Label == tc.label) {
					t.Errorf("%s current = %v after choosing %s", c.Label, c.Current, tc.label)
				}
			}
		})
	}
}

func TestStatusRefusedShowsServerReason(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		msg  string
	}{
		{"refused", fmt.Errorf("set status: %w", &RefusedError{Reason: "cannot switch answering off while talking"}), "Refused: cannot switch answering off while talking"},
		{"unreachable", fmt.Errorf("x: %w", ErrUnreachable), "The server cannot be reached; try again"},
		{"other", fmt.Errorf("boom"), "Status change failed: boom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStatus(t)
			f.snapshot(t, &api.AgentStatus{Presence: "online", Phone: "idle", Activity: "talking", AutoAnswer: true, Since: t9}, 0)
			f.center.setErr = tc.err
			// The agent unticks auto-answer; the check box already shows it off.
			_ = f.AutoAnswer.Set(false)
			f.SetAutoAnswer(false)
			f.wg.Wait()
			if got := str(t, f.Message); got != tc.msg {
				t.Errorf("message = %q, want %q", got, tc.msg)
			}
			if !boolean(t, f.AutoAnswer) {
				t.Error("auto-answer stays off after the server refused")
			}
			if got := str(t, f.Status); got != "Talking 00:00" {
				t.Errorf("status = %q", got)
			}
			if len(f.applied) != 1 {
				t.Errorf("a refused change was applied to the phone: %v", f.applied)
			}
			// The next request clears the message.
			f.center.setErr = nil
			f.SetAutoAnswer(true)
			f.wg.Wait()
			if got := str(t, f.Message); got != "" {
				t.Errorf("message after success = %q", got)
			}
		})
	}
}

func TestStatusAutoAnswer(t *testing.T) {
	t.Run("older server switches the phone alone", func(t *testing.T) {
		f := newStatus(t)
		f.HandleServer(event(t, api.EventSnapshot, t9, api.Snapshot{Agent: api.Agent{WorkNumber: "1001"}}))
		f.SetAutoAnswer(true)
		f.wg.Wait()
		if _, n := f.center.lastChange(); n != 0 {
			t.Errorf("%d requests to a server without statuses", n)
		}
		if !reflect.DeepEqual(f.local, []bool{true}) || !boolean(t, f.AutoAnswer) {
			t.Errorf("local %v, binding %v", f.local, boolean(t, f.AutoAnswer))
		}
	})
	t.Run("server status drives the phone", func(t *testing.T) {
		f := newStatus(t)
		f.snapshot(t, &api.AgentStatus{Presence: "online", Phone: "idle", Since: t9}, 0)
		f.center.status = api.AgentStatus{Presence: "online", Phone: "idle"}
		f.SetAutoAnswer(true)
		f.wg.Wait()
		got, _ := f.center.lastChange()
		if got.AutoAnswer == nil || !*got.AutoAnswer || got.Phone != nil || got.Presence != nil {
			t.Errorf("sent %+v", got)
		}
		if len(f.applied) != 2 || !f.applied[1].AutoAnswer || !boolean(t, f.AutoAnswer) {
			t.Errorf("applied %+v", f.applied)
		}
		if len(f.local) != 0 {
			t.Errorf("switched locally %v", f.local)
		}
		// Another device (or the server) switches it off: the event wins.
		f.HandleServer(event(t, api.EventStatus, t9, api.AgentStatus{Presence: "online", Phone: "idle", Since: t9}))
		if boolean(t, f.AutoAnswer) || f.applied[2].AutoAnswer {
			t.Error("status event did not switch auto-answer off")
		}
	})
}

func TestStatusInitialChange(t *testing.T) {
	yes, idle := true, "idle"
	for _, tc := range []struct {
		name string
		st   api.AgentStatus
		want *api.StatusChange
	}{
		{"both differ", api.AgentStatus{Presence: "online", Phone: "busy"}, &api.StatusChange{Phone: &idle, AutoAnswer: &yes}},
		{"one differs", api.AgentStatus{Presence: "online", Phone: "idle"}, &api.StatusChange{AutoAnswer: &yes}},
		{"none differs", api.AgentStatus{Presence: "online", Phone: "idle", AutoAnswer: true}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStatus(t, WithInitialStatus(api.StatusChange{Phone: &idle, AutoAnswer: &yes}))
			f.center.status = tc.st
			st := tc.st
			f.snapshot(t, &st, 0)
			f.wg.Wait()
			// A reconnect's snapshot does not send it again.
			f.snapshot(t, &st, 0)
			f.wg.Wait()
			got, n := f.center.lastChange()
			switch {
			case tc.want == nil && n != 0:
				t.Errorf("sent %d changes", n)
			case tc.want != nil && (n != 1 || !reflect.DeepEqual(got, *tc.want)):
				t.Errorf("sent %d, last %+v, want %+v", n, got, *tc.want)
			}
		})
	}
}

func TestStatusACWCommands(t *testing.T) {
	f := newStatus(t)
	f.snapshot(t, &api.AgentStatus{Presence: "online", Phone: "idle", Activity: "acw", Since: t9, ACWUntil: t9.Add(30 * time.Second)}, 0)
	f.advance(5 * time.Second)
	if got := str(t, f.ACWLeft); got != "00:25" || !boolean(t, f.InACW) {
		t.Fatalf("ACW left %q, in ACW %v", got, boolean(t, f.InACW))
	}
	f.ExtendACW()
	f.FinishACW()
	f.wg.Wait()
	if !reflect.DeepEqual(f.center.extends, []int{ACWExtendSeconds}) || f.center.finishes != 1 {
		t.Errorf("extends %v finishes %d", f.center.extends, f.center.finishes)
	}
	// The server extends: a status event with a later end.
	f.HandleServer(event(t, api.EventStatus, f.now, api.AgentStatus{Presence: "online", Phone: "idle", Activity: "acw", Since: t9, ACWUntil: t9.Add(90 * time.Second)}))
	if got := str(t, f.ACWLeft); got != "01:25" {
		t.Errorf("ACW left after extend %q", got)
	}
	f.HandleServer(event(t, api.EventStatus, f.now, api.AgentStatus{Presence: "online", Phone: "idle", Since: f.now}))
	if boolean(t, f.InACW) || str(t, f.ACWLeft) != "" || str(t, f.Status) != "Idle 00:00" {
		t.Errorf("after ACW: in %v left %q status %q", boolean(t, f.InACW), str(t, f.ACWLeft), str(t, f.Status))
	}
	f.center.acwErr = &RefusedError{Reason: "not in after-call work"}
	f.FinishACW()
	f.wg.Wait()
	if got := str(t, f.Message); got != "Refused: not in after-call work" {
		t.Errorf("message %q", got)
	}
}

func TestStatusFiguresAndGroups(t *testing.T) {
	for _, tc := range []struct {
		name                   string
		st                     api.AgentStatus
		talk, busy, idle, call string
	}{
		// The running status keeps adding to its own total.
		{"idle adds to idle", api.AgentStatus{Presence: "online", Phone: "idle"}, "02:05", "10:00", "30:20", "3"},
		{"busy adds to busy", api.AgentStatus{Presence: "online", Phone: "busy"}, "02:05", "10:20", "30:00", "3"},
		{"custom adds to busy", api.AgentStatus{Presence: "custom", Custom: "break"}, "02:05", "10:20", "30:00", "3"},
		{"talking adds to talk time", api.AgentStatus{Presence: "online", Phone: "idle", Activity: "talking"}, "02:25", "10:00", "30:00", "3"},
		{"offline adds to nothing", api.AgentStatus{Presence: "offline"}, "02:05", "10:00", "30:00", "3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newStatus(t)
			st := tc.st
			st.Since = t9
			f.snapshot(t, &st, 0)
			f.advance(20 * time.Second)
			got := []string{str(t, f.TalkTime), str(t, f.BusyTotal), str(t, f.IdleTotal), str(t, f.Calls)}
			if want := []string{tc.talk, tc.busy, tc.idle, tc.call}; !reflect.DeepEqual(got, want) {
				t.Errorf("figures %v, want %v", got, want)
			}
		})
	}

	f := newStatus(t)
	f.snapshot(t, &api.AgentStatus{Presence: "online", Phone: "idle", Since: t9}, 0)
	f.advance(10 * time.Second)
	if str(t, f.Queue) != "3" || !boolean(t, f.QueueWaiting) {
		t.Errorf("queue %q waiting %v", str(t, f.Queue), boolean(t, f.QueueWaiting))
	}
	want := []GroupLine{
		{Label: "售前咨询", Waiting: 2, Text: "2 waiting · longest 01:15 · idle 1 · busy 2 · talking 3"},
		{Label: "vip", Waiting: 1, Text: "1 waiting · longest 00:15 · idle 0 · busy 0 · talking 0"},
	}
	if got := f.Groups(); !reflect.DeepEqual(got, want) {
		t.Errorf("groups\n%+v\nwant\n%+v", got, want)
	}
	// Pushed figures and groups replace the old ones.
	f.HandleServer(event(t, api.EventFigures, f.now, api.Figures{TalkTimeSec: 3600, Calls: 10}))
	f.HandleServer(event(t, api.EventGroups, f.now, []api.Group{{Name: "sales", Label: "售前咨询"}}))
	if str(t, f.TalkTime) != "1:00:00" || str(t, f.Calls) != "10" || str(t, f.Queue) != "0" || boolean(t, f.QueueWaiting) {
		t.Errorf("after events: talk %q calls %q queue %q", str(t, f.TalkTime), str(t, f.Calls), str(t, f.Queue))
	}
	if got := f.Groups(); len(got) != 1 || got[0].Text != "0 waiting · longest 00:00 · idle 0 · busy 0 · talking 0" {
		t.Errorf("groups %+v", got)
	}
}

func TestStatusNotice(t *testing.T) {
	f := newStatus(t)
	for _, tc := range []struct {
		n    api.Notice
		want string
	}{
		{api.Notice{Code: "missed_twice", Message: "x"}, "Set to busy: you missed two calls in a row"},
		{api.Notice{Code: "other", Message: "Server restarts at 22:00"}, "Server restarts at 22:00"},
	} {
		f.HandleServer(event(t, api.EventNotice, t9, tc.n))
		if got := str(t, f.Message); got != tc.want {
			t.Errorf("notice %q shows %q, want %q", tc.n.Code, got, tc.want)
		}
	}
}

func TestStatusLoadsStatusesMissingFromSnapshot(t *testing.T) {
	f := newStatus(t)
	f.center.statuses = []api.CustomStatus{{Name: "training", Label: "Training"}}
	f.HandleServer(event(t, api.EventSnapshot, t9, api.Snapshot{Status: &api.AgentStatus{Presence: "online", Phone: "busy", Since: t9}}))
	f.wg.Wait()
	var labels []string
	for _, c := range f.Choices() {
		labels = append(labels, c.Label)
	}
	if want := []string{"Idle", "Busy", "Training", "Offline"}; !reflect.DeepEqual(labels, want) {
		t.Errorf("choices %v, want %v", labels, want)
	}
}
