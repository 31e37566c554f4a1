package audio

import (
	"testing"

	"github.com/zaf/g711"
)

// TestG711MatchesReference compares every code and every 16-bit sample with
// an independent implementation (zaf/g711, the one diago uses for PCMU/PCMA).
func TestG711MatchesReference(t *testing.T) {
	decodeMismatch := 0
	for c := range 256 {
		var u, a [1]int16
		MulawDecode(u[:], []byte{byte(c)})
		AlawDecode(a[:], []byte{byte(c)})
		if ref := g711.DecodeUlawFrame(uint8(c)); u[0] != ref {
			t.Errorf("µ-law decode %#02x: %d, reference %d", c, u[0], ref)
			decodeMismatch++
		}
		if ref := g711.DecodeAlawFrame(uint8(c)); a[0] != ref {
			t.Errorf("A-law decode %#02x: %d, reference %d", c, a[0], ref)
			decodeMismatch++
		}
		if decodeMismatch > 5 {
			t.FailNow()
		}
	}
	var uDiff, aDiff int
	for i := range 65536 {
		s := int16(uint16(i))
		var u, a [1]byte
		MulawEncode(u[:], []int16{s})
		AlawEncode(a[:], []int16{s})
		if u[0] != g711.EncodeUlawFrame(s) {
			uDiff++
		}
		if a[0] != g711.EncodeAlawFrame(s) {
			aDiff++
		}
	}
	if uDiff > 0 || aDiff > 0 {
		t.Fatalf("encode differs from reference on %d (µ) / %d (A) of 65536 samples", uDiff, aDiff)
	}
}
