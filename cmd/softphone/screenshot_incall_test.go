package main

import (
	"context"
	"image"
	"image/color"
	"os/exec"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/admin"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/callcenter/crm"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/phone"
)

// The in-call work pictures (issue 4) of the real softphone: the customer
// card beside the pop, the notes panel, the transfer dialog, the consult
// view and today's callbacks, all in one customer call so the added time
// stays small. A second agent (1002) is online on a real SIP phone to be
// listed with a green dot and to answer the consult; the customer's
// history, notes and callbacks are seeded in the store first.

// Where the in-call controls are in the window (ui/incall.go, ui/work.go):
// the row of Hold, Transfer, Consult and Callback on top of the phone tab,
// under the call's info line; the side panel's Customer and Notes tabs;
// the Callbacks tab of the bar.
func transferButtonAt(*screen) image.Point { return image.Pt(150, 286) }
func consultButtonAt(*screen) image.Point  { return image.Pt(246, 286) }
func notesTabAt(*screen) image.Point       { return image.Pt(550, 207) }
func customerTabAt(*screen) image.Point    { return image.Pt(450, 207) }
func callbacksTabAt(*screen) image.Point   { return image.Pt(255, 207) }

// The note box and its button sit at the bottom of the side panel.
func noteEntryAt(s *screen) image.Point { return image.Pt(575, s.window.Dy()-85) }
func addNoteAt(s *screen) image.Point   { return image.Pt(700, s.window.Dy()-27) }

// The transfer / consult dialog is centred, 640 high (ui/incall.go): its
// Close button at the bottom, the first agent's button at the top (right
// under the "Agents" heading: the error line shows only with an error).
func dialogCloseAt(s *screen) image.Point {
	return image.Pt(s.window.Dx()/2, s.window.Dy()/2+320-38)
}
func firstAgentActionAt(s *screen) image.Point {
	return image.Pt(s.window.Dx()/2+173, s.window.Dy()/2-320+112)
}

// dialogShown: the first agent row of the dialog has its green dot (1003
// is online), where nothing green is drawn without the dialog.
func dialogShown(s *screen) bool {
	c := image.Pt(s.window.Dx()/2, s.window.Dy()/2)
	dot := image.Rect(c.X-215, c.Y-320+101, c.X-195, c.Y-320+126)
	return s.countIn(dot, near(dotGreen, 10)) > 20
}

// countIn counts the pixels matching in r (window coordinates).
func (s *screen) countIn(r image.Rectangle, match func(r, g, b uint8) bool) int {
	n := 0
	b := s.img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			c := color.NRGBAModel.Convert(s.img.At(b.Min.X+x, b.Min.Y+y)).(color.NRGBA)
			if match(c.R, c.G, c.B) {
				n++
			}
		}
	}
	return n
}

// The consult view's Cancel button, under the call info of the phone tab.
func consultCancelAt(*screen) image.Point { return image.Pt(322, 485) }

const typedNote = "Confirmed Friday delivery; wants a call the day before."

// secondAgent is 1002 signed in on a real phone (virtual headset), idle.
type secondAgent struct {
	api   *client.Client
	phone *phone.Phone
	rings chan *phone.Call
}

func (c *centerd) startSecondAgent(t *testing.T, wn string) *secondAgent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	a := &secondAgent{api: client.New(c.url), rings: make(chan *phone.Call, 4)}
	login, err := a.api.Login(ctx, wn, admin.DemoPassword, "pc")
	if err != nil {
		t.Fatalf("login %s: %v", wn, err)
	}
	dev := audio.NewVirtualDevice(audio.NewTone(1000, 0.3, audio.DeviceRate))
	a.phone, err = phone.New(phone.Account{Username: login.SIP.Username, Password: login.SIP.Password,
		Realm: login.SIP.Realm, Registrar: login.SIP.Registrar},
		phone.WithListen("127.0.0.1:0"),
		phone.WithAudio(func() (audio.Device, error) { return dev, nil }))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.phone.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev := range a.phone.Events() { // closed by Close
			if ev.Kind == phone.EventCall && ev.State == phone.Ringing {
				select {
				case a.rings <- ev.Call:
				default:
				}
			}
		}
	}()
	t.Cleanup(func() {
		_ = a.phone.Close()
		<-done
	})
	waitFor(t, 20*time.Second, wn+" registered", func() bool { return c.edge.Registered(wn) })
	idle := "idle"
	if _, err := a.api.SetStatus(ctx, api.StatusChange{Phone: &idle}); err != nil {
		t.Fatalf("%s idle: %v", wn, err)
	}
	return a
}

// seedWork writes what an agent would find on a customer they have talked
// to before: earlier calls (one missed), a note by 1002 and one by 1001,
// and 1001's callbacks in each state: yesterday's never called (expired
// by the server when listed), one done today by a call to its number,
// one due already (its reminder fires) and one later today.
func (c *centerd) seedWork(t *testing.T, now time.Time) {
	t.Helper()
	ctx := context.Background()
	rec := func(id, number, agent string, at time.Time, answered bool) callcenter.CallRecord {
		r := callcenter.CallRecord{CallID: id, Type: callcenter.CallInbound, Caller: number, Callee: admin.DemoNumber,
			Group: "sales", StartedAt: at, EndedAt: at.Add(3 * time.Minute), HangupBy: callcenter.PartyCaller,
			Result: callcenter.ResultNoAnswer}
		if answered {
			r.Agent, r.AnsweredAt, r.Result = agent, at.Add(8*time.Second), callcenter.ResultAnswered
		}
		if err := c.st.EndCallRecord(ctx, r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	note := func(callID, agent, text string, at time.Time) {
		if _, err := c.st.AddNote(ctx, callcenter.Note{CallID: callID, Customer: customer, Agent: agent, Text: text, CreatedAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	rec("seed-1", customer, "1001", now.Add(-74*time.Hour), true)
	note("seed-1", "1001", "Asked for the invoice of order 5521; sent by email.", now.Add(-74*time.Hour+4*time.Minute))
	rec("seed-2", customer, "", now.Add(-50*time.Hour), false)
	rec("seed-3", customer, "1002", now.Add(-26*time.Hour), true)
	note("seed-3", "1002", "Wants the blue one in size M. Call before 5 pm.", now.Add(-26*time.Hour+3*time.Minute))

	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.Local)
	// Times inside today whatever the hour the test runs at.
	earlier := func(f float64) time.Time { return today.Add(time.Duration(float64(now.Sub(today)) * f)) }
	later := func(f float64) time.Time { return now.Add(time.Duration(float64(today.AddDate(0, 0, 1).Sub(now)) * f)) }
	cb := func(number, remark string, due time.Time) callcenter.Callback {
		out, err := c.st.CreateCallback(ctx, callcenter.Callback{Agent: agentWN, Number: number, DueAt: due, Remark: remark,
			State: callcenter.CallbackPending, CreatedAt: due.Add(-24 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	cb("18912345678", "Quote for 20 units", today.Add(-14*time.Hour))
	cb("02161234567", "Renewal of the service contract", earlier(0.3))
	done := rec("seed-4", "02161234567", agentWN, earlier(0.6), true)
	if err := c.crm.CallCompleted(ctx, done); err != nil {
		t.Fatal(err)
	}
	cb("13700137000", "Send the new price list", earlier(0.9))
	cb(customer, "Delivery date of order 5521", later(0.5))
}

func inCallShots(t *testing.T, bin string, cc *centerd) {
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Skipf("xdotool not installed: the in-call pictures need clicks (%v)", err)
	}
	cc.seedWork(t, time.Now())
	// 1003 idle on a real phone (green dot, takes the consult); 1002
	// signed in without a phone (grey, busy); a support customer waiting
	// (the group's count).
	cc.addAgent(t, "1003", "Zhao Lei")
	a3 := cc.startSecondAgent(t, "1003")
	if _, err := client.New(cc.url).Login(context.Background(), "1002", admin.DemoPassword, "pc"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	waiting, err := cc.sim.Call(ctx, "02161234567", admin.DemoNumber, pstnsim.CallOptions{})
	if err != nil {
		t.Fatalf("second customer: %v", err)
	}
	defer func() { _ = waiting.Hangup(context.Background()) }()
	if err := waiting.SendDTMF(ctx, "2"); err != nil {
		t.Fatal(err)
	}

	app := startApp(t, bin, "-server", cc.url, "-user", agentWN, "-password", admin.DemoPassword, "-virtual-audio", "-auto-answer", "-ready")
	cc.waitRegistered(t, app)
	cc.waitIdle(t)
	call := cc.callIn(t, ctx, app)
	defer func() { _ = call.Hangup(context.Background()) }()
	waitFor(t, 15*time.Second, "agent on the call", func() bool {
		return cc.cc.Status(agentWN).Activity == callcenter.ActivityTalking
	})
	// A callback falls due while the agent talks: its reminder shows on
	// the callbacks tab (the CRM polls every second).
	if _, err := cc.crm.CreateCallback(ctx, agentWN, crm.CallbackInput{Number: "13900139000",
		Remark: "Missed call, wants the invoice", DueAt: time.Now().Add(2 * time.Second)}); err != nil {
		t.Fatal(err)
	}

	// The customer card opens beside the bar: the window widens.
	app.waitShot(t, "customer card beside the bar", func(s *screen) bool { return s.window.Dx() > 700 })
	time.Sleep(3500 * time.Millisecond) // card and history loaded, the call timer moved
	card := app.waitShot(t, "customer card", func(s *screen) bool { return s.window.Dx() > 700 })
	card.save(t, "customer.png")

	// Notes: the earlier ones (1002's read-only), and one typed now.
	app.click(t, card, notesTabAt)
	time.Sleep(500 * time.Millisecond)
	app.click(t, card, noteEntryAt)
	app.xdotool(t, "type", "--delay", "5", typedNote)
	app.click(t, card, addNoteAt)
	time.Sleep(800 * time.Millisecond)
	notes := app.waitShot(t, "notes panel", func(s *screen) bool { return !s.same(card) })
	notes.save(t, "notes.png")
	// What was typed is a note of the call, by 1001, on the server.
	waitFor(t, 10*time.Second, "the typed note stored", func() bool {
		ns, err := cc.st.Notes(ctx, callcenter.NoteFilter{Customers: []string{customer}, Limit: 10})
		return err == nil && len(ns) == 3 && ns[0].Agent == agentWN && ns[0].Text == typedNote
	})

	// The transfer dialog: agents with their dots, groups with counts.
	app.click(t, notes, transferButtonAt)
	app.waitShot(t, "transfer dialog", dialogShown)
	time.Sleep(500 * time.Millisecond) // the groups' counts too
	tr := app.waitShot(t, "transfer dialog", dialogShown)
	tr.save(t, "transfer.png")
	app.click(t, tr, dialogCloseAt)
	app.waitShot(t, "transfer dialog closed", func(s *screen) bool { return !dialogShown(s) })

	// Consult 1003: the customer on hold, 1003 answers, both parties and
	// Transfer / Three-way / Cancel.
	app.click(t, tr, consultButtonAt)
	app.waitShot(t, "consult dialog", dialogShown)
	app.click(t, tr, firstAgentActionAt)
	var leg *phone.Call
	select {
	case leg = <-a3.rings:
	case <-time.After(15 * time.Second):
		t.Fatalf("1003 not rung by the consult\n%s", app.output())
	}
	if err := leg.Answer(ctx); err != nil {
		t.Fatalf("1003 answers: %v", err)
	}
	time.Sleep(1500 * time.Millisecond)
	con := app.waitShot(t, "consult view", func(s *screen) bool { return true })
	con.save(t, "consult.png")
	app.click(t, con, consultCancelAt)
	// Cancel ends 1003's leg and the customer is back with 1001.
	select {
	case <-leg.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("1003's consult leg still up after Cancel")
	}
	waitFor(t, 10*time.Second, "1003 free again", func() bool { return cc.cc.Status("1003").Available() })
	time.Sleep(500 * time.Millisecond)

	// Today's callbacks, with the reminder of the one that fell due.
	app.click(t, con, callbacksTabAt)
	time.Sleep(800 * time.Millisecond)
	cbs := app.waitShot(t, "callbacks", func(s *screen) bool { return true })
	cbs.save(t, "callbacks.png")

	if err := call.Hangup(ctx); err != nil {
		t.Errorf("customer hang up: %v", err)
	}
	app.stop(t)
}

// addAgent creates an agent with the demo password, in no group.
func (c *centerd) addAgent(t *testing.T, wn, name string) {
	t.Helper()
	a := callcenter.Agent{WorkNumber: wn, Name: name, Role: callcenter.RoleAgent}
	var err error
	if a.PasswordHash, a.HA1MD5, a.HA1SHA256, err = admin.Credentials(realm, wn, admin.DemoPassword); err != nil {
		t.Fatal(err)
	}
	if _, err := c.st.CreateAgent(context.Background(), a); err != nil {
		t.Fatal(err)
	}
}
