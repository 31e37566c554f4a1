package media

import (
	"errors"
	"testing"
)

func TestDTMFRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ev   DTMFEvent
		wire []byte
	}{
		{"start of 5", DTMFEvent{Event: 5, Volume: 10, Duration: 160}, []byte{5, 0x0a, 0x00, 0xa0}},
		{"end of #", DTMFEvent{Event: 11, End: true, Volume: 10, Duration: 800}, []byte{11, 0x8a, 0x03, 0x20}},
		{"max volume and duration", DTMFEvent{Event: 15, End: true, Volume: 63, Duration: 0xffff}, []byte{15, 0xbf, 0xff, 0xff}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendDTMF(nil, tt.ev)
			if string(got) != string(tt.wire) {
				t.Fatalf("AppendDTMF = % x, want % x", got, tt.wire)
			}
			back, err := ParseDTMF(got)
			if err != nil {
				t.Fatal(err)
			}
			if back != tt.ev {
				t.Fatalf("ParseDTMF = %+v, want %+v", back, tt.ev)
			}
		})
	}
	if _, err := ParseDTMF([]byte{1, 2, 3}); !errors.Is(err, ErrShortPayload) {
		t.Fatalf("short payload: err = %v, want ErrShortPayload", err)
	}
}

func TestDigitMapping(t *testing.T) {
	for _, d := range "0123456789*#ABCD" {
		e, err := DigitEvent(d)
		if err != nil {
			t.Fatalf("DigitEvent(%q): %v", d, err)
		}
		back, ok := EventDigit(e)
		if !ok || back != d {
			t.Fatalf("EventDigit(%d) = %q, %v; want %q", e, back, ok, d)
		}
	}
	if e, err := DigitEvent('b'); err != nil || e != 13 {
		t.Fatalf("lower-case b = %d, %v", e, err)
	}
	for _, d := range "xE+ " {
		if _, err := DigitEvent(d); !errors.Is(err, ErrBadDigit) {
			t.Fatalf("DigitEvent(%q) err = %v, want ErrBadDigit", d, err)
		}
	}
	if _, ok := EventDigit(16); ok {
		t.Fatal("event 16 (flash) must not map to a digit")
	}
}

func TestDTMFReceiverDedupe(t *testing.T) {
	type pkt struct {
		ts  uint32
		ev  uint8
		end bool
	}
	tests := []struct {
		name string
		pkts []pkt
		want string
	}{
		{
			name: "one digit with three end retransmissions",
			pkts: []pkt{{100, 1, false}, {100, 1, false}, {100, 1, true}, {100, 1, true}, {100, 1, true}},
			want: "1",
		},
		{
			name: "same digit twice is two events",
			pkts: []pkt{{100, 7, false}, {100, 7, true}, {100, 7, true}, {900, 7, false}, {900, 7, true}},
			want: "77",
		},
		{
			name: "all end packets lost: reported when the next event starts",
			pkts: []pkt{{100, 2, false}, {100, 2, false}, {900, 3, false}, {900, 3, true}},
			want: "23",
		},
		{
			name: "only end packets arrive",
			pkts: []pkt{{100, 11, true}, {100, 11, true}},
			want: "#",
		},
		{
			name: "lost end then immediate end of next",
			pkts: []pkt{{100, 4, false}, {900, 5, true}},
			want: "45",
		},
		{
			name: "non-digit events are ignored",
			pkts: []pkt{{100, 16, false}, {100, 16, true}, {500, 0, true}},
			want: "0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r dtmfReceiver
			var got []rune
			for _, p := range tt.pkts {
				prev, pok, cur, cok := r.push(p.ts, DTMFEvent{Event: p.ev, End: p.end})
				if pok {
					got = append(got, prev)
				}
				if cok {
					got = append(got, cur)
				}
			}
			if string(got) != tt.want {
				t.Fatalf("digits = %q, want %q", string(got), tt.want)
			}
		})
	}
}

func FuzzParseDTMF(f *testing.F) {
	f.Add([]byte{5, 0x0a, 0x00, 0xa0})
	f.Add([]byte{11, 0x8a, 0x03, 0x20, 0xff})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseDTMF(b)
		if err != nil {
			if len(b) >= dtmfPayloadSize {
				t.Fatalf("error on %d bytes: %v", len(b), err)
			}
			return
		}
		// The reserved R bit is dropped on purpose; everything else must
		// survive a round trip.
		w := AppendDTMF(nil, e)
		want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]}
		if string(w) != string(want) {
			t.Fatalf("round trip % x -> %+v -> % x", b[:4], e, w)
		}
		var r dtmfReceiver
		r.push(1, e) // must not panic on any event
	})
}
