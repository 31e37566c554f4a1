package ivr

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/media"
	"github.com/pion/rtp"
)

// leg is a caller's phone on a real UDP socket: the room sends it PCMU,
// it decodes and keeps what it heard. It sends nothing.
type leg struct {
	room  *net.UDPConn // the room's side, wrapped by Conn
	phone *net.UDPConn
	peer  *net.UDPAddr
	wbuf  []byte

	mu    sync.Mutex
	heard []int16
	done  chan struct{}
}

func newLeg(t *testing.T) *leg {
	t.Helper()
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}
	r, err := net.ListenUDP("udp4", lo)
	if err != nil {
		t.Fatal(err)
	}
	p, err := net.ListenUDP("udp4", lo)
	if err != nil {
		t.Fatal(err)
	}
	l := &leg{room: r, phone: p, peer: p.LocalAddr().(*net.UDPAddr), wbuf: make([]byte, 1500), done: make(chan struct{})}
	go l.receive()
	t.Cleanup(func() {
		r.Close()
		p.Close()
		<-l.done
	})
	return l
}

// The room side: media.RTPConn with SetReadDeadline, so Leave can stop
// its reader.
func (l *leg) ReadRTP(buf []byte, pkt *rtp.Packet) (int, error) {
	for {
		n, err := l.room.Read(buf)
		if err != nil {
			return 0, err
		}
		if pkt.Unmarshal(buf[:n]) == nil {
			return n, nil
		}
	}
}

func (l *leg) WriteRTP(pkt *rtp.Packet) error {
	n, err := pkt.MarshalTo(l.wbuf)
	if err != nil {
		return err
	}
	_, err = l.room.WriteToUDP(l.wbuf[:n], l.peer)
	return err
}

func (l *leg) SetReadDeadline(t time.Time) error { return l.room.SetReadDeadline(t) }

func (l *leg) receive() {
	defer close(l.done)
	buf := make([]byte, 1500)
	pcm := make([]int16, 160)
	for {
		n, err := l.phone.Read(buf)
		if err != nil {
			return
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
			continue
		}
		m := audio.MulawDecode(pcm, pkt.Payload)
		l.mu.Lock()
		l.heard = append(l.heard, pcm[:m]...)
		l.mu.Unlock()
	}
}

func (l *leg) take() []int16 {
	l.mu.Lock()
	defer l.mu.Unlock()
	h := l.heard
	l.heard = nil
	return h
}

func newRoom(t *testing.T, hears media.HearSet) (*media.Room, *leg) {
	t.Helper()
	r := media.NewRoom("ivr-test")
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	l := newLeg(t)
	_, err := r.Join(context.Background(), media.ParticipantConfig{
		Name: "customer", Conn: l, Codec: audio.PCMU, PayloadType: 0, Hears: hears,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r, l
}

// TestRoomPlayerPrompt plays a real prompt into a room and checks the
// caller's leg heard speech for about the prompt's length, then quiet.
func TestRoomPlayerPrompt(t *testing.T) {
	t.Parallel()
	prompts := builtin(t)
	r, l := newRoom(t, media.Hear(DefaultPromptParticipant))
	s, rate, err := prompts.Samples("invalid", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := time.Duration(len(s)) * time.Second / time.Duration(rate)
	pl := NewRoomPlayer(r, prompts)
	l.take()
	start := time.Now()
	if err := pl.Play(context.Background(), "invalid"); err != nil {
		t.Fatal(err)
	}
	if e := time.Since(start); e < want-100*time.Millisecond || e > want+time.Second {
		t.Errorf("Play took %v for a %v prompt", e, want)
	}
	time.Sleep(150 * time.Millisecond) // the last packets
	heard := l.take()
	if got := time.Duration(len(heard)) * time.Second / 8000; got < want-200*time.Millisecond {
		t.Errorf("leg heard %v of audio, want about %v", got, want)
	}
	if db := audio.DBFS(heard); db < -30 {
		t.Errorf("leg heard %.1f dBFS, want the prompt", db)
	}
	if r.Participant(DefaultPromptParticipant) != nil {
		t.Error("the prompt participant stayed in the room")
	}
	// The prompt is over: what the leg hears now is silence.
	time.Sleep(200 * time.Millisecond)
	if after := l.take(); len(after) > 0 && audio.DBFS(after) > -50 {
		t.Errorf("after the prompt the leg hears %.1f dBFS", audio.DBFS(after))
	}
}

// TestRoomPlayerBargeIn: ending the context cuts the prompt at once and
// takes it out of the room; a second prompt can play right after under
// the same name.
func TestRoomPlayerBargeIn(t *testing.T) {
	t.Parallel()
	prompts := builtin(t)
	r, _ := newRoom(t, media.Hear("ivr"))
	pl := NewRoomPlayer(r, prompts, WithParticipantName("ivr"), WithLanguage("zh"))
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start := time.Now()
	err := pl.Play(ctx, "welcome_main") // zh/welcome_main, several seconds
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if e := time.Since(start); e > time.Second {
		t.Errorf("barge-in took %v", e)
	}
	if r.Participant("ivr") != nil {
		t.Error("the cut prompt stayed in the room")
	}
	if err := pl.Play(context.Background(), "please_hold"); err != nil {
		t.Fatal(err)
	}
	if err := pl.Play(context.Background(), "no_such_prompt"); !errors.Is(err, ErrNoPrompt) {
		t.Errorf("missing prompt: %v", err)
	}
}

// TestHoldMusicInRoom: music joined as a source reaches the caller's leg
// through the room and the codec, and still sounds like music.
func TestHoldMusicInRoom(t *testing.T) {
	t.Parallel()
	prompts := builtin(t)
	r, l := newRoom(t, media.Hear("music"))
	src, rate, err := prompts.Music(0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Join(context.Background(), media.ParticipantConfig{
		Name: "music", Source: src, Rate: rate, Speaks: true, Hears: media.HearNone,
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	l.take()
	time.Sleep(2500 * time.Millisecond)
	if err := checkMusic(l.take(), 8000); err != nil {
		t.Error(err)
	}
}

// TestRunInRoom drives the runner over a real room: the caller presses 2
// while the welcome prompt plays, is taken at once, and ends in support.
func TestRunInRoom(t *testing.T) {
	t.Parallel()
	prompts := builtin(t)
	r, l := newRoom(t, media.Hear(DefaultPromptParticipant))
	keys := NewDigits()
	menus := menuMap{"main": {Prompt: "welcome_main", Timeout: time.Second, MaxTries: 1,
		Choices: map[rune]callcenter.IVRAction{'2': group("support")}}}
	time.AfterFunc(500*time.Millisecond, func() { keys.Push('2') })
	start := time.Now()
	res, err := Run(context.Background(), "main", menus, NewRoomPlayer(r, prompts), keys)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != group("support") || res.Keys != "2" {
		t.Errorf("result %+v", res)
	}
	if e := time.Since(start); e > 2*time.Second {
		t.Errorf("the key did not cut the prompt: run took %v", e)
	}
	if db := audio.DBFS(l.take()); db < -35 {
		t.Errorf("leg heard %.1f dBFS before the key, want the prompt", db)
	}
}
