package audio

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// TestReframeG711: packets of any ptime come out as 20 ms frames on the
// grid of the first packet, byte for byte, with a lost 10 ms piece
// replaced by silence.
func TestReframeG711(t *testing.T) {
	stream := make([]byte, 8000) // 1 s of "samples", each its own value
	for i := range stream {
		stream[i] = byte(i*7 + i/256)
	}
	tests := []struct {
		name  string
		ptime int // ms
		drop  int // index of a packet lost, -1 none
	}{
		{"10 ms", 10, -1},
		{"20 ms", 20, -1},
		{"30 ms", 30, -1},
		{"40 ms", 40, -1},
		{"60 ms", 60, -1},
		{"10 ms with a loss", 10, 7},
		{"30 ms with a loss", 30, 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rf, err := NewReframer(PCMU)
			if err != nil {
				t.Fatal(err)
			}
			const ts0 = 0xFFFFF000 // wraps during the stream
			n := tt.ptime * 8
			got := map[uint32][]byte{}
			for k := 0; (k+1)*n <= len(stream); k++ {
				if k == tt.drop {
					continue
				}
				out, err := rf.Push(ts0+uint32(k*n), stream[k*n:(k+1)*n])
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range out {
					if len(f.Payload) != 160 {
						t.Fatalf("frame at %d has %d bytes", f.Timestamp, len(f.Payload))
					}
					if (f.Timestamp-ts0)%160 != 0 {
						t.Fatalf("frame at %d off the 20 ms grid", f.Timestamp-ts0)
					}
					if _, dup := got[f.Timestamp]; dup {
						t.Fatalf("frame at %d twice", f.Timestamp-ts0)
					}
					got[f.Timestamp] = bytes.Clone(f.Payload)
				}
			}
			silence := byte(0xFF) // µ-law zero
			for i := 0; i+160 <= len(stream)-n; i += 160 {
				f, ok := got[ts0+uint32(i)]
				if !ok {
					if tt.drop >= 0 && i >= tt.drop*n-160 && i < (tt.drop+1)*n {
						continue // wholly inside the lost packet
					}
					t.Fatalf("no frame at %d", i)
				}
				for j := range f {
					lost := tt.drop >= 0 && i+j >= tt.drop*n && i+j < (tt.drop+1)*n
					want := stream[i+j]
					if lost {
						want = silence
					}
					if f[j] != want {
						t.Fatalf("frame %d byte %d = %#x, want %#x (lost %v)", i, j, f[j], want, lost)
					}
				}
			}
		})
	}
}

// opusPackets encodes a 1 kHz tone into Opus packets of ms each.
func opusPackets(t *testing.T, ms float64, n int) [][]byte {
	t.Helper()
	enc, err := NewOpusEncoder(DefaultOpusOptions())
	if err != nil {
		t.Fatal(err)
	}
	pcm := make([]int16, int(48*ms))
	tone := NewTone(1000, 0.3, 48000)
	var out [][]byte
	buf := make([]byte, 4000)
	for range n {
		tone.Read(pcm)
		k, err := enc.Encode(pcm, buf)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, bytes.Clone(buf[:k]))
	}
	return out
}

// code3 joins code-0 packets of one configuration into one code 3 packet
// (VBR), as a sender with that packet time would.
func code3(pkts ...[]byte) []byte {
	p := []byte{pkts[0][0] | 3, 0x80 | byte(len(pkts))}
	for _, q := range pkts[:len(pkts)-1] {
		p = appendOpusFrameLen(p, len(q)-1)
	}
	for _, q := range pkts {
		p = append(p, q[1:]...)
	}
	return p
}

// TestReframeOpus: Opus packets of 10 to 60 ms come out as 20 ms packets
// (or a whole 40/60 ms frame followed by continuations) that decode to
// the same tone, every 20 ms of the timeline covered once.
func TestReframeOpus(t *testing.T) {
	type packetizer func(t *testing.T) [][]byte
	plain := func(ms float64) packetizer {
		return func(t *testing.T) [][]byte { return opusPackets(t, ms, int(1000/ms)) }
	}
	joined := func(ms float64, k int) packetizer {
		return func(t *testing.T) [][]byte {
			src := opusPackets(t, ms, int(1000/ms))
			var out [][]byte
			for i := 0; i+k <= len(src); i += k {
				out = append(out, code3(src[i:i+k]...))
			}
			return out
		}
	}
	tests := []struct {
		name  string
		pkts  packetizer
		ticks uint32 // RTP ticks per input packet
	}{
		{"20 ms", plain(20), 960},
		{"10 ms", plain(10), 480},
		{"5 ms", plain(5), 240},
		{"40 ms", plain(40), 1920},
		{"60 ms", plain(60), 2880},
		{"30 ms as 3x10", joined(10, 3), 1440},
		{"60 ms as 3x20", joined(20, 3), 2880},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rf, err := NewReframer(Opus)
			if err != nil {
				t.Fatal(err)
			}
			dec, _ := Opus.NewDecoder()
			var pcm []int16
			buf := make([]int16, 5760)
			carry := 0 // samples of a long frame still to come
			short := 0
			next := uint32(1000)
			for k, p := range tt.pkts(t) {
				out, err := rf.Push(1000+uint32(k)*tt.ticks, p)
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range out {
					if f.Timestamp != next {
						t.Fatalf("frame at %d, want %d", f.Timestamp, next)
					}
					next += 960
					if len(f.Payload) == 0 {
						if carry < 960 {
							t.Fatalf("continuation at %d without a long frame before it", f.Timestamp)
						}
						carry -= 960
						continue
					}
					n, err := dec.Decode(f.Payload, buf)
					if err != nil {
						t.Fatalf("frame at %d: %v", f.Timestamp, err)
					}
					if n%960 != 0 {
						// Frames of different configurations cannot share
						// a packet: when the encoder switches mode halfway
						// through a 20 ms frame, that frame is short and
						// the next starts that much earlier.
						short++
						next = f.Timestamp + uint32(n)
						n = 960 // the room plays it padded
					}
					carry = n - 960
					pcm = append(pcm, buf[:n]...)
				}
			}
			if short > 3 {
				t.Errorf("%d short frames in 1 s", short)
			}
			if len(pcm) < 48000*9/10 {
				t.Fatalf("%d samples decoded of 1 s", len(pcm))
			}
			if r := (ToneDetector{Rate: 48000, Freq: 1000}).Ratio(pcm[4800:]); r < 0.9 {
				t.Fatalf("1 kHz holds %.2f of the power after reframing", r)
			}
		})
	}
}

func TestReframeOpusMalformed(t *testing.T) {
	rf, _ := NewReframer(Opus)
	for _, p := range [][]byte{
		{},
		{0x01, 1, 2, 3},          // code 1, odd length
		{0x02, 200, 1},           // code 2, first frame beyond the packet
		{0x03},                   // code 3 without count
		{0x03, 0x00},             // zero frames
		{0xFB, 0x3F},             // 63 frames of 20 ms: beyond 120 ms
		{0x03, 0x42, 255},        // padding length truncated
		{0x03, 0x83, 252},        // VBR length truncated
		{0x03, 0x03, 1, 2, 3, 4}, // CBR bytes not a multiple of the count
	} {
		if _, err := rf.Push(0, p); !errors.Is(err, ErrBadPacket) {
			t.Errorf("% x: err = %v, want ErrBadPacket", p, err)
		}
	}
	if _, err := NewReframer(CodecID(9)); !errors.Is(err, ErrUnsupportedCodec) {
		t.Errorf("unknown codec: %v", err)
	}
}

func TestReframeNoAlloc(t *testing.T) {
	for _, c := range []Codec{PCMU, Opus} {
		t.Run(c.Name(), func(t *testing.T) {
			rf, _ := NewReframer(c)
			var pkts [][]byte
			var step uint32
			if c == Codec(Opus) {
				pkts, step = opusPackets(t, 10, 50), 480
			} else {
				for range 50 {
					pkts = append(pkts, make([]byte, 240)) // 30 ms
				}
				step = 240
			}
			i := 0
			push := func() {
				if _, err := rf.Push(uint32(i)*step, pkts[i%len(pkts)]); err != nil {
					t.Fatal(err)
				}
				i++
			}
			for range 100 {
				push()
			}
			if a := testing.AllocsPerRun(500, push); a != 0 {
				t.Fatalf("%.1f allocs per Push", a)
			}
		})
	}
}

// FuzzReframeOpus: any payload either fails with ErrBadPacket or yields
// frames that parse again and cover no more than the input's duration.
func FuzzReframeOpus(f *testing.F) {
	f.Add([]byte{0x08, 1, 2, 3})
	f.Add(code3([]byte{0x48, 1, 2}, []byte{0x48, 3}, []byte{0x48, 4, 5, 6}))
	f.Add([]byte{0x03, 0xC2, 2, 1, 9, 9, 0, 0})
	f.Fuzz(func(t *testing.T, p []byte) {
		rf, _ := NewReframer(Opus)
		out, err := rf.Push(0, p)
		if err != nil {
			if !errors.Is(err, ErrBadPacket) {
				t.Fatalf("error %v is not ErrBadPacket", err)
			}
			return
		}
		for _, fr := range out {
			if len(fr.Payload) == 0 {
				continue
			}
			if _, err := rf.parseOpus(fr.Payload); err != nil {
				t.Fatalf("reframed packet % x does not parse: %v", fr.Payload, err)
			}
		}
		if len(out) > 6 {
			t.Fatalf("%d frames from one packet (120 ms at most)", len(out))
		}
		_ = fmt.Sprint(len(out))
	})
}
