package media

import (
	"bytes"
	"log/slog"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
)

// syncBuffer is a log destination the room's goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestClosingLineCountsEveryLeg: the room's closing line carries the
// counters of every RTP leg it had, including one that left before the
// close (a transfer), and nothing for internal participants.
func TestClosingLineCountsEveryLeg(t *testing.T) {
	var out syncBuffer
	log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelInfo}))
	r := NewRoom("stats", WithLogger(log))
	cust := newPhone(t, "customer", codec(t, "PCMU"), 0)
	agent := newPhone(t, "agent:1001", codec(t, "PCMA"), 8)
	cust.setSource(audio.NewTone(1000, 0.3, 8000))
	agent.setSource(audio.NewTone(1500, 0.3, 8000))
	join(t, r, cust.config(true, HearAll))
	ap := join(t, r, agent.config(true, HearAll))
	join(t, r, ParticipantConfig{Name: "music", Source: audio.Silence{}, Speaks: true})
	start(t, r, cust, agent)
	time.Sleep(settle)
	ap.Leave()
	time.Sleep(100 * time.Millisecond)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`msg="room closed".*`).FindString(out.String())
	if line == "" {
		t.Fatalf("no closing line in the log:\n%s", out.String())
	}
	for _, leg := range []string{"customer", "agent:1001"} {
		for _, field := range []string{"in", "out"} {
			m := regexp.MustCompile(regexp.QuoteMeta(leg) + `\.` + field + `=(\d+)`).FindStringSubmatch(line)
			if m == nil {
				t.Errorf("no %s.%s in %q", leg, field, line)
				continue
			}
			if n, _ := strconv.Atoi(m[1]); n < 5 {
				t.Errorf("%s.%s=%d after %v of audio", leg, field, n, settle)
			}
		}
	}
	for _, field := range []string{"lost", "late", "concealed", "wrongsrc"} {
		if !regexp.MustCompile(`customer\.` + field + `=\d+`).MatchString(line) {
			t.Errorf("no customer.%s in %q", field, line)
		}
	}
	if regexp.MustCompile(`music\.`).MatchString(line) {
		t.Errorf("internal participant in the closing line: %q", line)
	}
}
