package pstnsim

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
)

func TestOutcomeFor(t *testing.T) {
	tests := []struct {
		number string
		want   Outcome
		status int
	}{
		{"13800130486", OutcomeBusy, 486},
		{"+86 138-0013-0486", OutcomeBusy, 486},
		{"13800130408", OutcomeNoAnswer, 480},
		{"13800130480", OutcomeUnreachable, 480},
		{"13800130503", OutcomePoweredOff, 480},
		{"13800130404", OutcomeInvalid, 404},
		{"13800130000", OutcomeAnswerLate, 200},
		{"13800138000", OutcomeAnswer, 200},
		{"0486", OutcomeBusy, 486},
		{"486", OutcomeAnswer, 200},
		{"", OutcomeAnswer, 200},
		{"agent-1001", OutcomeAnswer, 200},
	}
	for _, tt := range tests {
		got := OutcomeFor(tt.number)
		if got != tt.want {
			t.Errorf("OutcomeFor(%q) = %v, want %v", tt.number, got, tt.want)
		}
		if code, _, _ := got.Final(); code != tt.status {
			t.Errorf("%v.Final() = %d, want %d", got, code, tt.status)
		}
	}
	for o := OutcomeAnswer; o <= OutcomeInvalid; o++ {
		if strings.HasPrefix(o.String(), "Outcome(") {
			t.Errorf("outcome %d has no name", o)
		}
		if code, _, reason := o.Final(); code != 200 && !strings.HasPrefix(reason, "Q.850;cause=") {
			t.Errorf("%v: refusal without a Q.850 Reason: %q", o, reason)
		}
	}
	if s := Outcome(99).String(); s != "Outcome(99)" {
		t.Errorf("unknown outcome String() = %q", s)
	}
}

func FuzzOutcomeFor(f *testing.F) {
	for _, s := range []string{"13800130486", "+86 0404", "sip:0000@x", "", "٠٤٨٦"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, number string) {
		o := OutcomeFor(number)
		if strings.HasPrefix(o.String(), "Outcome(") {
			t.Fatalf("OutcomeFor(%q) = unnamed %d", number, o)
		}
		// Only ASCII digits count: appending non-digits changes nothing.
		if o2 := OutcomeFor(number + "-x"); o2 != o {
			t.Fatalf("OutcomeFor(%q) = %v but with a suffix %v", number, o, o2)
		}
	})
}

func TestParseNumbers(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr error
		line    string
	}{
		{"plain", "13800138000\n02161234567\n", []string{"13800138000", "02161234567"}, nil, ""},
		{"comments and blanks", "# customers\n\n13800138000  # VIP\n   \n+8613900000000\n", []string{"13800138000", "+8613900000000"}, nil, ""},
		{"separators dropped", "138-0013 8000\r\n", []string{"13800138000"}, nil, ""},
		{"no final newline", "1", []string{"1"}, nil, ""},
		{"empty", "", nil, ErrNoNumbers, ""},
		{"only comments", "# nothing\n\n", nil, ErrNoNumbers, ""},
		{"letters", "13800138000\nabc\n", nil, ErrBadNumber, "line 2"},
		{"plus inside", "138+00\n", nil, ErrBadNumber, "line 1"},
		{"too long", "1234567890123456\n", nil, ErrBadNumber, "line 1"},
		{"just plus", "+\n", nil, ErrBadNumber, "line 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseNumbers(strings.NewReader(tt.in))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.line) {
					t.Fatalf("err = %v, want %v mentioning %q", err, tt.wantErr, tt.line)
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

func FuzzParseNumbers(f *testing.F) {
	for _, s := range []string{"13800138000\n", "# c\n+86 1\n", "a\n", "", "1#2\n\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		nums, err := ParseNumbers(strings.NewReader(in))
		if err != nil {
			if len(nums) != 0 {
				t.Fatal("numbers returned with an error")
			}
			return
		}
		if len(nums) == 0 {
			t.Fatal("no numbers and no error")
		}
		for _, n := range nums {
			digits := strings.TrimPrefix(n, "+")
			if digits == "" || len(digits) > maxNumberDigits || strings.Trim(digits, "0123456789") != "" {
				t.Fatalf("bad number %q accepted", n)
			}
		}
	})
}

func TestLoadNumbers(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "callers.txt")
	bad := filepath.Join(dir, "broken.txt")
	os.WriteFile(good, []byte("# demo callers\n13800138000\n\n02161234567\n"), 0o644)
	os.WriteFile(bad, []byte("13800138000\n138oo138000\n"), 0o644)

	if got, err := LoadNumbers(good); err != nil || !slices.Equal(got, []string{"13800138000", "02161234567"}) {
		t.Errorf("file: %v, %v", got, err)
	}
	if got, err := LoadNumbers("13800138000, 18912345678"); err != nil || !slices.Equal(got, []string{"13800138000", "18912345678"}) {
		t.Errorf("comma list: %v, %v", got, err)
	}
	_, err := LoadNumbers(bad)
	if !errors.Is(err, ErrBadNumber) || !strings.Contains(err.Error(), "broken.txt") || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("broken file: %v, want file name and line 2", err)
	}
	if _, err := LoadNumbers(filepath.Join(dir, "missing.txt")); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	if _, err := LoadNumbers("callers.txt"); err == nil {
		t.Error("a missing relative file name was taken for a number list")
	}
}

func TestRecorderKeepsNewest(t *testing.T) {
	tests := []struct {
		limit  int
		writes [][]int16
		want   []int16
	}{
		{5, [][]int16{{1, 2}, {3}}, []int16{1, 2, 3}},
		{5, [][]int16{{1, 2, 3}, {4, 5, 6, 7}}, []int16{3, 4, 5, 6, 7}},
		{3, [][]int16{{1, 2, 3, 4, 5}}, []int16{3, 4, 5}},
		{3, [][]int16{{1}, {2}, {3}, {4}, {5}, {6}, {7}}, []int16{5, 6, 7}},
		{4, [][]int16{{1, 2, 3}, {4, 5, 6}, {7, 8, 9, 10, 11}}, []int16{8, 9, 10, 11}},
		{0, [][]int16{{1}}, nil},
	}
	for _, tt := range tests {
		r := recorder{limit: tt.limit}
		for _, w := range tt.writes {
			r.write(w)
		}
		if got := r.snapshot(); !slices.Equal(got, tt.want) && !(len(got) == 0 && len(tt.want) == 0) {
			t.Errorf("limit %d writes %v: got %v, want %v", tt.limit, tt.writes, got, tt.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	pcm := make([]int16, 8000)
	audio.NewTone(2000, dbfsToAmp(-12), 8000).Read(pcm)
	s := summarize(pcm, time.Second)
	if s.Freq != 2000 || math.Abs(s.LevelDBFS+12) > 0.2 || s.Samples != 8000 {
		t.Errorf("summary %v, want 2000 Hz at -12 dBFS", s)
	}
	if s := summarize(make([]int16, 800), 0); !math.IsInf(s.LevelDBFS, -1) || s.Freq != 0 {
		t.Errorf("silence summary %v", s)
	}
	if s := summarize(nil, 0); s.Samples != 0 || !math.IsInf(s.LevelDBFS, -1) {
		t.Errorf("empty summary %v", s)
	}
}

func TestParseVoice(t *testing.T) {
	wav := filepath.Join(t.TempDir(), "voice.wav")
	writeWAV(t, wav, 16000, 2, 700, 16000) // 1 s of 700 Hz, stereo, 16 kHz
	notWAV := filepath.Join(t.TempDir(), "notes.txt")
	os.WriteFile(notWAV, []byte("hello"), 0o644)

	tests := []struct {
		spec string
		freq float64
		db   float64
		err  bool
	}{
		{"tone:1500", 1500, DefaultVoiceDBFS, false},
		{"tone:440:-20", 440, -20, false},
		{wav, 700, -12, false},
		{"tone:", 0, 0, true},
		{"tone:5000", 0, 0, true},
		{"tone:1000:3", 0, 0, true},
		{"tone:1:2:3", 0, 0, true},
		{"", 0, 0, true},
		{notWAV, 0, 0, true},
		{"/no/such.wav", 0, 0, true},
	}
	for _, tt := range tests {
		voice, err := ParseVoice(tt.spec)
		if tt.err {
			if !errors.Is(err, ErrBadVoice) {
				t.Errorf("ParseVoice(%q) err = %v, want ErrBadVoice", tt.spec, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseVoice(%q): %v", tt.spec, err)
		}
		// 2.5 s crosses the WAV's loop point twice.
		pcm := make([]int16, 20000)
		voice(1).Read(pcm)
		if !audio.DetectTone(pcm, 8000, tt.freq) {
			t.Errorf("%q: no %v Hz tone in the voice", tt.spec, tt.freq)
		}
		if lvl := audio.DBFS(pcm); math.Abs(lvl-tt.db) > 0.5 {
			t.Errorf("%q: level %.1f dBFS, want %.1f", tt.spec, lvl, tt.db)
		}
	}
}

func TestAnnouncementIsSIT(t *testing.T) {
	a := Announcement()
	seg := make([]int16, 8000*330/1000)
	for _, f := range []float64{913.8, 1370.6, 1776.7} {
		a.Read(seg)
		if !audio.DetectTone(seg, 8000, f) {
			t.Errorf("SIT segment at %v Hz missing", f)
		}
	}
	gap := make([]int16, 4000)
	a.Read(gap)
	if !math.IsInf(audio.DBFS(gap), -1) {
		t.Error("no silence after the tones")
	}
	a.Read(seg)
	if !audio.DetectTone(seg, 8000, 913.8) {
		t.Error("announcement does not repeat")
	}
}

// writeWAV writes a 16-bit PCM WAV of a sine at -12 dBFS.
func writeWAV(t *testing.T, path string, rate, channels int, freq float64, frames int) {
	t.Helper()
	mono := make([]int16, frames)
	audio.NewTone(freq, dbfsToAmp(-12), rate).Read(mono)
	var data bytes.Buffer
	for _, v := range mono {
		for c := 0; c < channels; c++ {
			binary.Write(&data, binary.LittleEndian, v)
		}
	}
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(36 + data.Len()))
	b.WriteString("WAVEfmt ")
	w(uint32(16))
	w(uint16(1))
	w(uint16(channels))
	w(uint32(rate))
	w(uint32(rate * channels * 2))
	w(uint16(channels * 2))
	w(uint16(16))
	b.WriteString("data")
	w(uint32(data.Len()))
	b.Write(data.Bytes())
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
