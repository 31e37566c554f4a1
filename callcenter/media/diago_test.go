package media

import (
	"net"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	dmedia "github.com/emiago/diago/media"
)

// TestDiagoSession runs a leg over diago's own RTPSession, as sipedge
// will: audio flows both ways, Leave wakes the blocked read through
// StopRTP, and the session then works in another room (transfer).
func TestDiagoSession(t *testing.T) {
	cust := newPhone(t, "customer", codec(t, "PCMU"), 0)
	ms, err := dmedia.NewMediaSession(net.IPv4(127, 0, 0, 1), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer ms.Close()
	ms.SetRemoteAddr(cust.sock.LocalAddr().(*net.UDPAddr))
	cust.room = &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: ms.Laddr.Port}
	sess := dmedia.NewRTPSession(ms)
	if interrupterFor(sess) == nil || sourceFunc(sess) == nil {
		t.Fatal("diago's RTPSession must be interruptible and report its sender")
	}
	cust.setSource(audio.NewTone(1000, 0.3, 8000))
	cfg := cust.config(true, HearAll)
	cfg.Conn = sess

	r1 := NewRoom("queue")
	defer r1.Close()
	cp := join(t, r1, cfg)
	join(t, r1, ParticipantConfig{Name: "music", Source: audio.NewTone(440, 0.3, 48000), Speaks: true})
	r2 := NewRoom("agent")
	agent := newPhone(t, "agent", codec(t, "PCMU"), 0)
	agent.setSource(audio.NewTone(1500, 0.3, 8000))
	start(t, r2, cust, agent)
	time.Sleep(settle)
	expectTones(t, "customer in queue", listen(cust, 200*time.Millisecond), 8000, 0.8, []float64{440}, []float64{1000})

	done := make(chan struct{})
	go func() { cp.Leave(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Leave did not wake diago's blocked ReadRTP")
	}
	join(t, r2, agent.config(true, HearAll))
	cp2 := join(t, r2, cfg)
	time.Sleep(settle)
	expectTones(t, "agent", listen(agent, 300*time.Millisecond), 8000, 0.8, []float64{1000}, []float64{1500})
	expectTones(t, "customer with agent", listen(cust, 300*time.Millisecond), 8000, 0.8, []float64{1500}, []float64{1000, 440})
	if st := cp2.Stats(); st.PacketsIn == 0 || st.PacketsOut == 0 {
		t.Fatalf("stats %+v", st)
	}
}
