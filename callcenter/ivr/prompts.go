package ivr

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"sync"

	"github.com/agentphone/agentphone/audio"
)

// Layout of the prompt file system (assets.Prompts has it).
const (
	PromptsDir    = "prompts"
	SequencesFile = "prompts/sequences.txt"
	HoldMusicFile = "music/hold.wav"
)

// MaxPromptBytes bounds one WAV file read into memory (a custom prompt
// from an admin's directory could be anything): 8 MiB is over four
// minutes at 16 kHz, far longer than any prompt.
const MaxPromptBytes = 8 << 20

// Prompts loads prompt and music WAVs, decodes them to mono PCM at the
// rate asked and caches the result: a busy IVR plays the same few prompts
// thousands of times, so each is decoded (and resampled) once. Safe for
// concurrent use; the returned samples are shared and must not be written.
type Prompts struct {
	fsys   fs.FS
	custom fs.FS
	seqs   map[string][]string

	mu    sync.Mutex
	cache map[cacheKey]clipData
}

type cacheKey struct {
	name string
	rate int
}

type clipData struct {
	samples []int16
	rate    int
}

// PromptsOption configures NewPrompts.
type PromptsOption func(*Prompts)

// WithCustomDir adds a file system consulted before the built-in one, for
// prompts an admin recorded (e.g. os.DirFS("/var/lib/callcenterd/prompts")).
// A name "promo" is looked up there as "promo.wav".
func WithCustomDir(fsys fs.FS) PromptsOption { return func(p *Prompts) { p.custom = fsys } }

// NewPrompts reads prompts from fsys, laid out as assets.Prompts is:
// prompts/<name>.wav, prompts/sequences.txt, music/hold.wav.
func NewPrompts(fsys fs.FS, opts ...PromptsOption) (*Prompts, error) {
	p := &Prompts{fsys: fsys, cache: map[cacheKey]clipData{}}
	for _, o := range opts {
		o(p)
	}
	b, err := fs.ReadFile(fsys, SequencesFile)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		p.seqs = map[string][]string{}
	case err != nil:
		return nil, fmt.Errorf("prompts: %w", err)
	default:
		if p.seqs, err = ParseSequences(b); err != nil {
			return nil, fmt.Errorf("prompts: %s: %w", SequencesFile, err)
		}
	}
	return p, nil
}

// ParseSequences parses sequences.txt: one "key: part part ..." per line,
// blank lines and # comments ignored. Keys and parts are prompt names;
// parts must be plain files (a sequence does not nest).
func ParseSequences(b []byte) (map[string][]string, error) {
	seqs := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, rest, ok := strings.Cut(line, ":")
		key = strings.TrimSpace(key)
		parts := strings.Fields(rest)
		if !ok || len(parts) == 0 {
			return nil, fmt.Errorf("line %d: want \"key: part ...\": %w", n, ErrBadSequence)
		}
		for _, name := range append([]string{key}, parts...) {
			if err := checkName(name); err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
		}
		if _, dup := seqs[key]; dup {
			return nil, fmt.Errorf("line %d: %q defined twice: %w", n, key, ErrBadSequence)
		}
		seqs[key] = parts
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSequence, err)
	}
	for key, parts := range seqs {
		for _, part := range parts {
			if _, nested := seqs[part]; nested {
				return nil, fmt.Errorf("%q uses sequence %q: %w", key, part, ErrBadSequence)
			}
		}
	}
	return seqs, nil
}

// checkName accepts clean relative slash paths without an extension:
// "invalid", "zh/welcome_main". Anything else could reach outside the
// prompt directory or is a typo.
func checkName(name string) error {
	if name == "" || !fs.ValidPath(name) || name == "." || strings.HasSuffix(name, ".wav") ||
		strings.ContainsAny(name, `\:`) {
		return fmt.Errorf("%w: %q", ErrBadPromptName, name)
	}
	return nil
}

// Has reports whether a prompt exists (file or sequence).
func (p *Prompts) Has(name string) bool {
	if checkName(name) != nil {
		return false
	}
	if _, ok := p.seqs[name]; ok {
		return true
	}
	if p.custom != nil {
		if _, err := fs.Stat(p.custom, name+".wav"); err == nil {
			return true
		}
	}
	_, err := fs.Stat(p.fsys, path.Join(PromptsDir, name+".wav"))
	return err == nil
}

// Localize returns lang's version of a prompt ("zh" + "invalid" →
// "zh/invalid") when it exists, else name itself.
func (p *Prompts) Localize(lang, name string) string {
	if lang == "" || lang == "en" {
		return name
	}
	if l := lang + "/" + name; p.Has(l) {
		return l
	}
	return name
}

// Samples returns a prompt's PCM at rate Hz (0: the file's own rate) and
// that rate. Sequences are the concatenation of their parts.
func (p *Prompts) Samples(name string, rate int) ([]int16, int, error) {
	if err := checkName(name); err != nil {
		return nil, 0, err
	}
	if parts, ok := p.seqs[name]; ok {
		return p.cached(name, rate, func() ([]int16, int, error) {
			var all []int16
			r := rate
			for _, part := range parts {
				s, pr, err := p.Samples(part, r)
				if err != nil {
					return nil, 0, fmt.Errorf("sequence %s: %w", name, err)
				}
				r = pr // every part at the first part's rate
				all = append(all, s...)
			}
			return all, r, nil
		})
	}
	return p.cached(name, rate, func() ([]int16, int, error) {
		if p.custom != nil {
			s, r, err := readWAV(p.custom, name+".wav", rate)
			if !errors.Is(err, fs.ErrNotExist) {
				return s, r, err
			}
		}
		s, r, err := readWAV(p.fsys, path.Join(PromptsDir, name+".wav"), rate)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("prompt %q: %w", name, ErrNoPrompt)
		}
		return s, r, err
	})
}

// Clip returns a prompt as a Clip ready to join a room.
func (p *Prompts) Clip(name string, rate int) (*Clip, error) {
	s, r, err := p.Samples(name, rate)
	if err != nil {
		return nil, err
	}
	return NewClip(s, r), nil
}

// Music returns a Source looping the hold music from its start, and its
// rate. Each caller gets its own Source over the shared samples.
func (p *Prompts) Music(rate int) (audio.Source, int, error) {
	d, err := p.cachedData(cacheKey{"\x00music", rate}, func() ([]int16, int, error) {
		return readWAV(p.fsys, HoldMusicFile, rate)
	})
	if err != nil {
		return nil, 0, err
	}
	return audio.NewLoop(d.samples), d.rate, nil
}

func (p *Prompts) cached(name string, rate int, load func() ([]int16, int, error)) ([]int16, int, error) {
	d, err := p.cachedData(cacheKey{name, rate}, load)
	return d.samples, d.rate, err
}

func (p *Prompts) cachedData(k cacheKey, load func() ([]int16, int, error)) (clipData, error) {
	p.mu.Lock()
	d, ok := p.cache[k]
	p.mu.Unlock()
	if ok {
		return d, nil
	}
	// Loaded outside the lock (decoding and resampling take a while); two
	// first callers may both load, and the result is the same.
	s, r, err := load()
	if err != nil {
		return clipData{}, err
	}
	d = clipData{s, r}
	p.mu.Lock()
	p.cache[k] = d
	p.mu.Unlock()
	return d, nil
}

func readWAV(fsys fs.FS, name string, rate int) ([]int16, int, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxPromptBytes+1))
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", name, err)
	}
	if len(b) > MaxPromptBytes {
		return nil, 0, fmt.Errorf("read %s: over %d bytes: %w", name, MaxPromptBytes, audio.ErrFormat)
	}
	w, err := audio.DecodeWAV(bytes.NewReader(b))
	if err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", name, err)
	}
	if rate == 0 || rate == w.Rate {
		return w.Samples, w.Rate, nil
	}
	s, err := audio.ReadWAV(bytes.NewReader(b), rate)
	if err != nil {
		return nil, 0, fmt.Errorf("read %s at %d Hz: %w", name, rate, err)
	}
	return s, rate, nil
}
