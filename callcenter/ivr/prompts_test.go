package ivr

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/agentphone/agentphone/assets"
	"github.com/agentphone/agentphone/audio"
)

// standardPrompts are the prompt keys the call center plays; each must
// exist in English and in Mandarin.
func standardPrompts() []string {
	names := []string{"welcome_main", "invalid", "timeout", "goodbye", "all_busy", "voicemail", "transfer", "please_hold"}
	for n := 1; n <= 10; n++ {
		names = append(names, "queue_position_"+strconv.Itoa(n), "expected_wait_"+strconv.Itoa(n))
	}
	return names
}

func builtin(t testing.TB) *Prompts {
	t.Helper()
	p, err := NewPrompts(assets.Prompts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBuiltinPrompts(t *testing.T) {
	p := builtin(t)
	for _, name := range standardPrompts() {
		for _, key := range []string{name, "zh/" + name} {
			s, rate, err := p.Samples(key, 0)
			if err != nil {
				t.Errorf("%s: %v", key, err)
				continue
			}
			d := time.Duration(len(s)) * time.Second / time.Duration(rate)
			if rate != 8000 || d < 300*time.Millisecond || d > 10*time.Second {
				t.Errorf("%s: %d Hz, %v", key, rate, d)
			}
			if db := audio.DBFS(s); db < -30 {
				t.Errorf("%s: %.1f dBFS, want speech", key, db)
			}
		}
	}
}

// TestPromptFiles: every file is 8 kHz mono 16-bit PCM, every sequence
// part exists, and the lot stays small.
func TestPromptFiles(t *testing.T) {
	total := 0
	err := fs.WalkDir(assets.Prompts, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets.Prompts, path)
		if err != nil {
			return err
		}
		total += len(b)
		if !strings.HasSuffix(path, ".wav") {
			return nil
		}
		w, err := audio.DecodeWAV(strings.NewReader(string(b)))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		if w.Rate != 8000 || w.Channels != 1 || w.Bits != 16 {
			t.Errorf("%s: %d Hz, %d channels, %d bits", path, w.Rate, w.Channels, w.Bits)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total > 1536<<10 {
		t.Errorf("prompts and music take %d bytes, want under 1.5 MiB", total)
	}
	p := builtin(t)
	for key, parts := range p.seqs {
		for _, part := range parts {
			if !p.Has(part) {
				t.Errorf("sequence %s: part %s missing", key, part)
			}
		}
	}
}

func TestSequenceSamples(t *testing.T) {
	p := builtin(t)
	s, rate, err := p.Samples("zh/expected_wait_2", 0)
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, part := range []string{"zh/part/wait_about", "zh/num/2q", "zh/part/minutes"} {
		ps, _, err := p.Samples(part, 0)
		if err != nil {
			t.Fatal(err)
		}
		want += len(ps)
	}
	if rate != 8000 || len(s) != want {
		t.Errorf("spliced %d samples at %d Hz, want %d at 8000", len(s), rate, want)
	}
	// At the wideband room rate, six times as long, and cached.
	w, wr, err := p.Samples("zh/expected_wait_2", 48000)
	if err != nil || wr != 48000 || math.Abs(float64(len(w)-6*want)) > 6*3 {
		t.Errorf("48 kHz: %d samples at %d (%v), want about %d", len(w), wr, err, 6*want)
	}
	w2, _, _ := p.Samples("zh/expected_wait_2", 48000)
	if &w2[0] != &w[0] {
		t.Error("second load was not served from the cache")
	}
}

// TestVoicemailEndsWithTone: "after the tone" needs a tone.
func TestVoicemailEndsWithTone(t *testing.T) {
	for _, key := range []string{"voicemail", "zh/voicemail"} {
		s, rate, err := builtin(t).Samples(key, 0)
		if err != nil {
			t.Fatal(err)
		}
		tail := s[len(s)-rate/2:]
		if r := (audio.ToneDetector{Rate: rate, Freq: 1400}).Ratio(tail); r < 0.5 {
			t.Errorf("%s: the last 0.5 s holds %.2f of 1400 Hz, want the record tone", key, r)
		}
	}
}

func TestPromptNames(t *testing.T) {
	p := builtin(t)
	tests := []struct {
		name string
		want error
	}{
		{"invalid", nil},
		{"zh/invalid", nil},
		{"../assets", ErrBadPromptName},
		{"/etc/passwd", ErrBadPromptName},
		{"invalid.wav", ErrBadPromptName},
		{"", ErrBadPromptName},
		{".", ErrBadPromptName},
		{`zh\invalid`, ErrBadPromptName},
		{"zh//invalid", ErrBadPromptName},
		{"no_such_prompt", ErrNoPrompt},
		{"zh", ErrNoPrompt},
	}
	for _, tt := range tests {
		_, _, err := p.Samples(tt.name, 0)
		if !errors.Is(err, tt.want) {
			t.Errorf("%q: err = %v, want %v", tt.name, err, tt.want)
		}
		if _, err := p.Clip(tt.name, 0); !errors.Is(err, tt.want) {
			t.Errorf("clip %q: err = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestLocalize(t *testing.T) {
	p := builtin(t)
	for _, tt := range []struct{ lang, name, want string }{
		{"zh", "invalid", "zh/invalid"},
		{"zh", "queue_position_3", "zh/queue_position_3"},
		{"zh", "custom_only_en", "custom_only_en"},
		{"fr", "invalid", "invalid"},
		{"", "invalid", "invalid"},
		{"en", "invalid", "invalid"},
		{"..", "invalid", "invalid"},
	} {
		if got := p.Localize(tt.lang, tt.name); got != tt.want {
			t.Errorf("Localize(%q, %q) = %q, want %q", tt.lang, tt.name, got, tt.want)
		}
	}
}

func wavBytes(t *testing.T, rate int, s []int16) []byte {
	t.Helper()
	var b strings.Builder
	if err := audio.WriteWAV(&b, rate, s); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}

func TestCustomDir(t *testing.T) {
	custom := fstest.MapFS{
		"promo.wav":   {Data: wavBytes(t, 16000, make([]int16, 1600))},
		"invalid.wav": {Data: wavBytes(t, 8000, make([]int16, 80))},
		"bad.wav":     {Data: []byte("RIFF....WAVEjunk")},
		"huge.wav":    {Data: make([]byte, MaxPromptBytes+1)},
	}
	p, err := NewPrompts(assets.Prompts, WithCustomDir(custom))
	if err != nil {
		t.Fatal(err)
	}
	if s, rate, err := p.Samples("promo", 0); err != nil || rate != 16000 || len(s) != 1600 {
		t.Errorf("promo: %d samples at %d, %v", len(s), rate, err)
	}
	if s, _, err := p.Samples("invalid", 0); err != nil || len(s) != 80 {
		t.Errorf("a custom prompt must override the built-in one: %d samples, %v", len(s), err)
	}
	if s, _, err := p.Samples("goodbye", 0); err != nil || len(s) < 1000 {
		t.Errorf("built-in prompts stay reachable: %d samples, %v", len(s), err)
	}
	for _, name := range []string{"bad", "huge"} {
		if _, _, err := p.Samples(name, 0); !errors.Is(err, audio.ErrFormat) {
			t.Errorf("%s: err = %v, want audio.ErrFormat", name, err)
		}
	}
	if !p.Has("promo") || p.Has("nope") {
		t.Error("Has")
	}
}

func TestNewPromptsBadSequences(t *testing.T) {
	_, err := NewPrompts(fstest.MapFS{SequencesFile: {Data: []byte("a: ../b\n")}})
	if !errors.Is(err, ErrBadPromptName) {
		t.Fatalf("err = %v", err)
	}
	p, err := NewPrompts(fstest.MapFS{}) // no sequences file: none
	if err != nil || len(p.seqs) != 0 {
		t.Fatalf("%v %v", p, err)
	}
	if _, _, err := p.Music(0); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("music without a file: %v", err)
	}
}

func TestParseSequences(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string // key -> parts joined by space
		err  error
	}{
		{"# c\n\n a : x  y \nb: z\n", map[string]string{"a": "x y", "b": "z"}, nil},
		{"a x y\n", nil, ErrBadSequence},
		{"a:\n", nil, ErrBadSequence},
		{"a: x\na: y\n", nil, ErrBadSequence},
		{"a: b\nb: c\n", nil, ErrBadSequence}, // nested
		{"a: /x\n", nil, ErrBadPromptName},
		{": x\n", nil, ErrBadPromptName},
		{"a: x.wav\n", nil, ErrBadPromptName},
	}
	for _, tt := range tests {
		got, err := ParseSequences([]byte(tt.in))
		if !errors.Is(err, tt.err) {
			t.Errorf("%q: err = %v, want %v", tt.in, err, tt.err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%q: got %v", tt.in, got)
		}
		for k, v := range tt.want {
			if strings.Join(got[k], " ") != v {
				t.Errorf("%q: %s = %v, want %s", tt.in, k, got[k], v)
			}
		}
	}
}

func FuzzParseSequences(f *testing.F) {
	f.Add([]byte("a: b c\n# x\n"))
	f.Add([]byte("zh/q_1: zh/p zh/n/1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		seqs, err := ParseSequences(b)
		if err != nil {
			return
		}
		for k, parts := range seqs {
			if checkName(k) != nil || len(parts) == 0 {
				t.Fatalf("accepted key %q parts %q", k, parts)
			}
			for _, part := range parts {
				if checkName(part) != nil {
					t.Fatalf("accepted part %q", part)
				}
				if _, nested := seqs[part]; nested {
					t.Fatalf("accepted nested %q", part)
				}
			}
		}
	})
}

// checkMusic says whether pcm sounds like music and not a test tone:
// audible throughout, no single frequency holding most of the power, and
// a dominant pitch that moves.
func checkMusic(pcm []int16, rate int) error {
	win := rate / 2
	if len(pcm) < 4*win {
		return fmt.Errorf("only %d samples", len(pcm))
	}
	pitches := map[float64]bool{}
	for i := 0; i+win <= len(pcm); i += win {
		w := pcm[i : i+win]
		if db := audio.DBFS(w); db < -40 {
			return fmt.Errorf("window at %d: %.1f dBFS, want sound", i, db)
		}
		best, bestF := 0.0, 0.0
		for f := 100.0; f < 3400 && f < float64(rate)/2; f += 25 {
			if r := (audio.ToneDetector{Rate: rate, Freq: f}).Ratio(w); r > best {
				best, bestF = r, f
			}
		}
		if best > 0.6 {
			return fmt.Errorf("window at %d: %.0f Hz holds %.2f of the power: a tone, not music", i, bestF, best)
		}
		pitches[bestF] = true
	}
	if len(pitches) < 3 {
		return fmt.Errorf("dominant pitch takes only %d values: monotonous", len(pitches))
	}
	return nil
}

func TestHoldMusic(t *testing.T) {
	p := builtin(t)
	src, rate, err := p.Music(0)
	if err != nil {
		t.Fatal(err)
	}
	if rate != 8000 {
		t.Fatalf("rate %d", rate)
	}
	all := make([]int16, 25*rate) // more than one turn of the loop
	src.Read(all)
	if err := checkMusic(all, rate); err != nil {
		t.Error(err)
	}
	d, _ := p.cachedData(cacheKey{"\x00music", 0}, nil)
	if n := len(d.samples); n < 15*rate || n > 25*rate {
		t.Errorf("music loop is %d samples, want about 20 s", n)
	}
	// The loop joins without a click: the jump from the last sample to
	// the first is no bigger than the music's own steps.
	s := d.samples
	maxStep := 0
	for i := 1; i < len(s); i++ {
		maxStep = max(maxStep, abs(int(s[i])-int(s[i-1])))
	}
	if j := abs(int(s[0]) - int(s[len(s)-1])); j > maxStep {
		t.Errorf("loop seam jumps %d, the music's biggest step is %d", j, maxStep)
	}
	if err := checkMusic(toneSamples(1000, rate, 4*rate), rate); err == nil {
		t.Error("checkMusic took a 1 kHz tone for music")
	}
}

func toneSamples(freq float64, rate, n int) []int16 {
	s := make([]int16, n)
	audio.NewTone(freq, 0.5, rate).Read(s)
	return s
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
