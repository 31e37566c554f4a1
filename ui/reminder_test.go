package ui

import (
	"context"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/test"
	"github.com/zalando/go-keyring"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/ui/vm"
)

// workBackend is a server with in-call work: the shell builds the notes,
// callbacks and customer parts only for a Backend that is also vm.InCall
// and vm.CRM.
type workBackend struct {
	*fakeBackend
	*fakeWork
}

// TestCallbackReminderEndToEnd: a callback_due event on the session's
// stream reaches the callbacks tab's in-app reminder through the shell's
// wiring; a desktop notification (Fyne's, seen through the test app's
// notification hook) is raised only while the window is in the background.
func TestCallbackReminderEndToEnd(t *testing.T) {
	keyring.MockInit()
	a := test.NewTempApp(t)
	events := make(chan api.Event)
	b := &workBackend{&fakeBackend{work: "1001", pw: "pw", events: events},
		&fakeWork{control: map[string]api.CallControl{}, errs: map[string]error{}}}
	s := NewShell(Config{App: a, Connect: func(string) (vm.Backend, error) { return b, nil },
		StartPhone: func(context.Context, vm.Session) (vm.Phone, func(), error) { return newFakePhone(), func() {}, nil },
		Devices:    fakeDevices{}, Tones: &fakeTones{},
		WorkNumber: "1001", Password: "pw", AutoLogin: true})
	t.Cleanup(s.Close)
	s.Show()
	s.wg.Wait()
	if s.session == nil || s.session.parts.work == nil {
		t.Fatal("no session with in-call work after login")
	}
	cb := s.session.parts.work.callbacks
	// send hands the bar's Run loop an event; once the next one is taken
	// (the stream is unbuffered), the previous one has been handled.
	send := func(ev api.Event) {
		t.Helper()
		select {
		case events <- ev:
		case <-time.After(5 * time.Second):
			t.Fatal("the bar does not read the event stream")
		}
	}
	handled := func() { send(api.Event{Type: "ping"}) }
	due := func(id int64, number, remark string) api.Event {
		return serverEvent(t, api.EventCallbackDue, time.Now(), api.Callback{ID: id, Number: number, Remark: remark,
			DueAt: time.Now(), State: api.CallbackPending})
	}

	// In front: the reminder shows in the app, no desktop notification.
	test.AssertNotificationSent(t, nil, func() {
		send(due(21, "13700137000", "quote"))
		handled()
	})
	if r, _ := cb.Reminder.Get(); r != "Callback due: 13700137000 · quote" {
		t.Errorf("in-app reminder %q", r)
	}
	if text := s.session.view.work.callbacks.reminder.Text; text != "Callback due: 13700137000 · quote" {
		t.Errorf("reminder label %q", text)
	}

	// In the background: the desktop notification too.
	lc, ok := a.Lifecycle().(interface{ OnExitedForeground() func() })
	if !ok {
		t.Fatal("the Fyne test app's lifecycle cannot be driven to the background")
	}
	lc.OnExitedForeground()()
	test.AssertNotificationSent(t, fyne.NewNotification("Callback due", "02161234567 · renewal"), func() {
		send(due(22, "02161234567", "renewal"))
		handled()
	})
	if r, _ := cb.Reminder.Get(); r != "Callback due: 02161234567 · renewal" {
		t.Errorf("in-app reminder %q", r)
	}
}
