package pstnsim

import (
	"context"
	"testing"
	"time"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// TestReceivedDigits: the center keys RFC 4733 digits into the customer's
// call (a repeated digit among them); the Sim keeps each key press once,
// in order, and Run's report carries them.
func TestReceivedDigits(t *testing.T) {
	const keyed = "1 1#*9"
	c := startCenter(t, func(d *diago.DialogServerSession) {
		if err := d.Answer(); err != nil {
			t.Errorf("center answer: %v", err)
			return
		}
		aw, err := d.AudioWriter()
		if err != nil {
			t.Errorf("audio writer: %v", err)
			return
		}
		w := media.NewRTPDTMFWriter(media.CodecTelephoneEvent8000, d.RTPPacketWriter, aw)
		for _, k := range keyed {
			if k == ' ' {
				// A pause between two presses of one key: two events.
				time.Sleep(100 * time.Millisecond)
				continue
			}
			if err := w.WriteDTMF(k); err != nil {
				t.Errorf("write DTMF %c: %v", k, err)
				return
			}
			time.Sleep(60 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // the last event's end packets
		_ = d.Hangup(d.Context())
		<-d.Context().Done()
		_ = d.Close()
	})
	sim := startSim(t, WithServer(c.addr))
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	rep, err := sim.Run(ctx, Plan{To: "4008001234", From: []string{"13800138000"}, Count: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Calls) != 1 || !rep.Calls[0].Answered {
		t.Fatalf("report %+v", rep)
	}
	if got := rep.Calls[0].Digits; got != "11#*9" {
		t.Errorf("the customer received digits %q, want 11#*9", got)
	}
}
