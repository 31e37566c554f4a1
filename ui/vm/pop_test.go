package vm

import (
	"reflect"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"github.com/agentphone/agentphone/callcenter/api"
)

type popFixture struct {
	*PopVM
	notes [][2]string
}

func newPop(t *testing.T) *popFixture {
	test.NewTempApp(t)
	f := &popFixture{}
	f.PopVM = NewPopVM(WithPopClock(func() time.Time { return t9 }, time.UTC),
		WithNotifier(func(title, body string) { f.notes = append(f.notes, [2]string{title, body}) }))
	return f
}

// shown is the card as a whole, compared in the tables.
type shown struct {
	Visible                                 bool
	Stage                                   PopStage
	Title, Number, Name, Region, Calls, Via string
}

func (f *popFixture) shown(t *testing.T) shown {
	st, _ := f.Stage.Get()
	return shown{boolean(t, f.Visible), PopStage(st), str(t, f.Title), str(t, f.Number), str(t, f.Name), str(t, f.Region), str(t, f.Calls), str(t, f.Via)}
}

var offer = api.ScreenPop{CallID: "c1", Direction: "inbound", Customer: "13800138000", Name: "张三", Region: "上海市", Carrier: "中国移动",
	CallsFrom: 3, LastCallAt: time.Date(2025, 3, 1, 14, 2, 0, 0, time.UTC), CenterNumber: "4001234567", Group: "售前咨询"}

func TestPopInboundLifecycle(t *testing.T) {
	full := shown{true, PopRinging, "Incoming call", "13800138000", "张三", "上海市 · 中国移动", "3 earlier calls · last 03-01 14:02", "via 4001234567 · 售前咨询"}
	talking, ended := full, full
	talking.Stage, talking.Title = PopTalking, "In call"
	ended.Stage, ended.Title = PopEnded, "Call ended"
	for _, tc := range []struct {
		name       string
		offerFirst bool
	}{
		{"offer event before the INVITE", true},
		{"INVITE before the offer event", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newPop(t)
			c := &fakeCall{dir: Inbound, remote: "sip:edge", headers: map[string]string{HeaderCallID: "c1", HeaderCaller: "13800138000", HeaderNumber: "4001234567"}}
			if tc.offerFirst {
				f.HandleServer(event(t, api.EventOffer, t9, offer))
				if f.shown(t).Visible {
					t.Fatal("pop visible before the phone rings")
				}
			}
			f.HandleCall(PhoneEvent{Kind: EventCall, Call: c, State: CallRinging})
			if !tc.offerFirst {
				// Until the server's data comes, the SIP headers fill the pop.
				want := shown{true, PopRinging, "Incoming call", "13800138000", "", "", "", "via 4001234567"}
				if got := f.shown(t); got != want {
					t.Errorf("from headers\n%+v\nwant\n%+v", got, want)
				}
				f.HandleServer(event(t, api.EventOffer, t9, offer))
			}
			if got := f.shown(t); got != full {
				t.Errorf("ringing\n%+v\nwant\n%+v", got, full)
			}
			f.HandleCall(PhoneEvent{Kind: EventCall, Call: c, State: CallActive})
			if got := f.shown(t); got != talking {
				t.Errorf("talking %+v", got)
			}
			f.HandleCall(PhoneEvent{Kind: EventCall, Call: c, State: CallEnded})
			if got := f.shown(t); got != ended {
				t.Errorf("ended %+v", got)
			}
			wantNote := [][2]string{{"Incoming call", "13800138000 · via 4001234567"}}
			if tc.offerFirst {
				wantNote = [][2]string{{"Incoming call", "13800138000 · 张三 · 上海市 · 中国移动 · via 4001234567 · 售前咨询"}}
			}
			if !reflect.DeepEqual(f.notes, wantNote) {
				t.Errorf("notifications %q, want %q", f.notes, wantNote)
			}
			f.Dismiss()
			if got := f.shown(t); got.Visible || got.Number != "" {
				t.Errorf("after dismiss %+v", got)
			}
		})
	}
}

func TestPopOutboundMatchesByNumber(t *testing.T) {
	f := newPop(t)
	c := &fakeCall{dir: Outbound, remote: "13900139000"}
	f.HandleCall(PhoneEvent{Kind: EventCall, Call: c, State: CallDialing})
	want := shown{true, PopRinging, "Outgoing call", "13900139000", "", "", "", ""}
	if got := f.shown(t); got != want {
		t.Errorf("dialing %+v", got)
	}
	// The server's call event carries the pop; our INVITE had no call id.
	f.HandleServer(event(t, api.EventCall, t9, api.Call{ID: "o1", Type: "outbound", State: "ringing", Number: "4001234567",
		Pop: &api.ScreenPop{Direction: "outbound", Customer: "13900139000", Region: "北京市", Carrier: "中国联通"}}))
	f.HandleServer(event(t, api.EventCall, t9, api.Call{ID: "other", Pop: &api.ScreenPop{Customer: "110", Name: "Wrong"}}))
	f.HandleCall(PhoneEvent{Kind: EventCall, Call: c, State: CallActive})
	want = shown{true, PopTalking, "In call", "13900139000", "", "北京市 · 中国联通", "First call from this number", "via 4001234567"}
	if got := f.shown(t); got != want {
		t.Errorf("talking\n%+v\nwant\n%+v", got, want)
	}
	if len(f.notes) != 0 {
		t.Errorf("outbound call notified %v", f.notes)
	}
}

func TestPopIgnoresOtherCalls(t *testing.T) {
	f := newPop(t)
	a := &fakeCall{dir: Inbound, remote: "111", headers: map[string]string{HeaderCallID: "a"}}
	b := &fakeCall{dir: Inbound, remote: "222", headers: map[string]string{HeaderCallID: "b"}}
	f.HandleCall(PhoneEvent{Kind: EventCall, Call: a, State: CallActive})
	f.HandleCall(PhoneEvent{Kind: EventCall, Call: b, State: CallRinging}) // turned away by the phone
	f.HandleCall(PhoneEvent{Kind: EventCall, Call: b, State: CallEnded})
	if got := f.shown(t); got.Number != "111" || got.Stage != PopTalking {
		t.Errorf("second call replaced the pop: %+v", got)
	}
	// Once ours ended, the next call pops without a dismiss.
	f.HandleCall(PhoneEvent{Kind: EventCall, Call: a, State: CallEnded})
	f.HandleCall(PhoneEvent{Kind: EventCall, Call: b, State: CallRinging})
	if got := f.shown(t); got.Number != "222" || got.Stage != PopRinging {
		t.Errorf("next call %+v", got)
	}
	// Dismiss does nothing while a call is live.
	f.Dismiss()
	if !f.shown(t).Visible {
		t.Error("dismissed a ringing call's pop")
	}
}

func TestPopKeepsFewOffers(t *testing.T) {
	f := newPop(t)
	for i := 0; i < 3*maxPops; i++ {
		f.HandleServer(event(t, api.EventOffer, t9, api.ScreenPop{CallID: string(rune('a' + i)), Customer: "1"}))
	}
	if len(f.pops) != maxPops || len(f.order) != maxPops {
		t.Errorf("kept %d pops, %d ids", len(f.pops), len(f.order))
	}
}

func TestShortTime(t *testing.T) {
	now := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2025, 3, 4, 0, 1, 0, 0, time.UTC), "00:01"},
		{time.Date(2025, 3, 3, 23, 59, 0, 0, time.UTC), "03-03 23:59"},
		{time.Date(2024, 12, 31, 8, 0, 0, 0, time.UTC), "2024-12-31 08:00"},
	} {
		if got := ShortTime(tc.t, now, time.UTC); got != tc.want {
			t.Errorf("ShortTime(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
	// The zone decides the day: 01:00 in Shanghai is the previous day in UTC.
	sh := time.FixedZone("CST", 8*3600)
	if got := ShortTime(time.Date(2025, 3, 3, 17, 0, 0, 0, time.UTC), now, sh); got != "01:00" {
		t.Errorf("Shanghai = %q", got)
	}
}
