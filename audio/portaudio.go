package audio

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	pa "github.com/gordonklaus/portaudio"
)

// PortAudio is process-global C state: Pa_Initialize/Pa_Terminate are
// reference counted by the library but not thread-safe, and the Go binding
// keeps its device list in unsynchronised package variables. paLibrary is
// the guard for exactly that state, so it is the one package-level variable
// here; every PortAudio call goes through it. The device list is read at
// initialisation, so it refreshes when every holder has released (no device
// open): that is what PortAudio itself offers.
var paLibrary = &portAudioLib{}

type portAudioLib struct {
	mu   sync.Mutex
	refs int
}

// acquire initialises PortAudio (one reference) and runs fn under the lock.
func (l *portAudioLib) acquire(fn func() error) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := pa.Initialize(); err != nil {
		return fmt.Errorf("portaudio initialise: %w", err)
	}
	l.refs++
	if fn == nil {
		return nil
	}
	if err := fn(); err != nil {
		l.releaseLocked()
		return err
	}
	return nil
}

func (l *portAudioLib) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.releaseLocked()
}

func (l *portAudioLib) releaseLocked() {
	if l.refs == 0 {
		return
	}
	l.refs--
	// An error here means the library was not initialised; nothing to undo.
	_ = pa.Terminate()
}

// DeviceInfo describes one PortAudio device.
type DeviceInfo struct {
	// ID is PortAudio's index; it changes when devices come and go, so
	// settings should store Name.
	ID             int
	Name           string
	HostAPI        string
	InputChannels  int
	OutputChannels int
	// DefaultInput and DefaultOutput mark the system defaults.
	DefaultInput, DefaultOutput bool
	DefaultSampleRate           float64
}

// ListDevices returns the audio devices PortAudio sees. While a device is
// open the list is the one read when it was opened.
func ListDevices() ([]DeviceInfo, error) {
	var out []DeviceInfo
	err := paLibrary.acquire(func() error {
		devs, err := pa.Devices()
		if err != nil {
			return fmt.Errorf("portaudio devices: %w", err)
		}
		defIn, _ := pa.DefaultInputDevice() // none is fine
		defOut, _ := pa.DefaultOutputDevice()
		for _, d := range devs {
			info := DeviceInfo{
				ID:                d.Index,
				Name:              d.Name,
				InputChannels:     d.MaxInputChannels,
				OutputChannels:    d.MaxOutputChannels,
				DefaultInput:      d == defIn,
				DefaultOutput:     d == defOut,
				DefaultSampleRate: d.DefaultSampleRate,
			}
			if d.HostApi != nil {
				info.HostAPI = d.HostApi.Name
			}
			out = append(out, info)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	paLibrary.release()
	return out, nil
}

// findDevice looks a device up by name ("" is the system default). Caller
// holds the library lock.
func findDevice(name string, input bool) (*pa.DeviceInfo, error) {
	kind := "output"
	if input {
		kind = "input"
	}
	if name == "" {
		var d *pa.DeviceInfo
		var err error
		if input {
			d, err = pa.DefaultInputDevice()
		} else {
			d, err = pa.DefaultOutputDevice()
		}
		if err != nil || d == nil {
			return nil, fmt.Errorf("default %s device: %w", kind, ErrNoDevice)
		}
		return d, nil
	}
	devs, err := pa.Devices()
	if err != nil {
		return nil, fmt.Errorf("portaudio devices: %w", err)
	}
	var fold *pa.DeviceInfo
	for _, d := range devs {
		if (input && d.MaxInputChannels == 0) || (!input && d.MaxOutputChannels == 0) {
			continue
		}
		if d.Name == name {
			return d, nil
		}
		if fold == nil && strings.EqualFold(d.Name, name) {
			fold = d
		}
	}
	if fold != nil {
		return fold, nil
	}
	return nil, fmt.Errorf("%s device %q: %w", kind, name, ErrNoDevice)
}

// PortAudioOption configures a PortAudioDevice or Player.
type PortAudioOption func(*portAudioConfig)

type portAudioConfig struct {
	buffer   time.Duration // device callback period
	playback time.Duration // most audio queued for the speaker
	capture  time.Duration // most audio queued from the microphone
	stall    time.Duration // ReadFrame gives up after this long without audio
}

func newPortAudioConfig(opts []PortAudioOption) portAudioConfig {
	c := portAudioConfig{
		buffer:   10 * time.Millisecond,
		playback: 100 * time.Millisecond,
		capture:  200 * time.Millisecond,
		stall:    2 * time.Second,
	}
	for _, o := range opts {
		o(&c)
	}
	return c
}

// WithDeviceBuffer sets the PortAudio callback period (default 10 ms).
func WithDeviceBuffer(d time.Duration) PortAudioOption {
	return func(c *portAudioConfig) { c.buffer = d }
}

// WithPlaybackQueue bounds how much audio may wait for the speaker (default
// 100 ms); beyond it the oldest is dropped so latency cannot build up.
func WithPlaybackQueue(d time.Duration) PortAudioOption {
	return func(c *portAudioConfig) { c.playback = d }
}

// WithCaptureQueue bounds how much microphone audio may wait for ReadFrame
// (default 200 ms); beyond it the oldest is dropped.
func WithCaptureQueue(d time.Duration) PortAudioOption {
	return func(c *portAudioConfig) { c.capture = d }
}

func samplesOf(d time.Duration) int { return int(d * DeviceRate / time.Second) }

// PortAudioStats counts where real-time audio was lost.
type PortAudioStats struct {
	CaptureDropped    int64 // mic samples dropped because ReadFrame fell behind
	PlaybackUnderflow int64 // silence samples played because WriteFrame fell behind
	PlaybackDropped   int64 // speaker samples dropped because the queue was full
	DeviceUnderflows  int64 // callbacks PortAudio flagged with an under- or overflow
}

// PortAudioDevice is a headset: separate input and output streams in
// callback mode at DeviceRate mono. Ring buffers bridge the ~10 ms device
// callbacks and the 20 ms frames of ReadFrame/WriteFrame.
type PortAudioDevice struct {
	cfg      portAudioConfig
	in, out  *pa.Stream
	inCh     int
	outCh    int
	mu       sync.Mutex
	capture  sampleRing
	playback sampleRing
	primed   bool // playback has started receiving audio
	stats    PortAudioStats
	scratch  []int16 // callback-side mono buffer
	oscratch []int16
	ready    chan struct{}
	closed   chan struct{}
	once     sync.Once
	closeErr error
}

// OpenPortAudio opens a headset with the named input (microphone) and output
// (speaker) devices; "" is the system default. A name that is not present
// fails with ErrNoDevice.
func OpenPortAudio(input, output string, opts ...PortAudioOption) (*PortAudioDevice, error) {
	cfg := newPortAudioConfig(opts)
	d := &PortAudioDevice{
		cfg:      cfg,
		capture:  newSampleRing(max(samplesOf(cfg.capture), 2*DeviceFrameSamples)),
		playback: newSampleRing(max(samplesOf(cfg.playback), 2*DeviceFrameSamples)),
		ready:    make(chan struct{}, 1),
		closed:   make(chan struct{}),
	}
	err := paLibrary.acquire(func() error {
		inDev, err := findDevice(input, true)
		if err != nil {
			return err
		}
		outDev, err := findDevice(output, false)
		if err != nil {
			return err
		}
		if d.in, d.inCh, err = openStream(inDev, true, cfg, d.onCapture); err != nil {
			return err
		}
		if d.out, d.outCh, err = openStream(outDev, false, cfg, d.onPlayback); err != nil {
			d.in.Close()
			return err
		}
		if err := d.in.Start(); err != nil {
			d.in.Close()
			d.out.Close()
			return fmt.Errorf("start input %q: %w", inDev.Name, err)
		}
		if err := d.out.Start(); err != nil {
			d.in.Abort()
			d.in.Close()
			d.out.Close()
			return fmt.Errorf("start output %q: %w", outDev.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// openStream opens a one-direction callback stream, mono if the device
// takes it, else stereo (some hardware devices only do stereo). cb gets
// interleaved samples and the channel count.
func openStream(dev *pa.DeviceInfo, input bool, cfg portAudioConfig, cb func(buf []int16, ch int, flags pa.StreamCallbackFlags)) (*pa.Stream, int, error) {
	var firstErr error
	for _, ch := range []int{1, 2} {
		p := pa.StreamParameters{SampleRate: DeviceRate, FramesPerBuffer: samplesOf(cfg.buffer)}
		side := &p.Output
		latency := dev.DefaultLowOutputLatency
		maxCh := dev.MaxOutputChannels
		if input {
			side, latency, maxCh = &p.Input, dev.DefaultLowInputLatency, dev.MaxInputChannels
		}
		if ch > maxCh {
			break
		}
		side.Device, side.Channels, side.Latency = dev, ch, max(latency, cfg.buffer)
		chans := ch
		s, err := pa.OpenStream(p, func(buf []int16, _ pa.StreamCallbackTimeInfo, flags pa.StreamCallbackFlags) {
			cb(buf, chans, flags)
		})
		if err == nil {
			return s, ch, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	kind := "output"
	if input {
		kind = "input"
	}
	if firstErr == nil {
		firstErr = errors.New("no channels")
	}
	return nil, 0, fmt.Errorf("open %s %q at %d Hz: %w", kind, dev.Name, DeviceRate, firstErr)
}

const paXrun = pa.InputOverflow | pa.InputUnderflow | pa.OutputUnderflow | pa.OutputOverflow

// onCapture runs on PortAudio's thread for every captured buffer.
func (d *PortAudioDevice) onCapture(buf []int16, ch int, flags pa.StreamCallbackFlags) {
	mono := buf
	if ch > 1 {
		n := len(buf) / ch
		if cap(d.scratch) < n {
			d.scratch = make([]int16, n)
		}
		mono = d.scratch[:n]
		for i := range mono {
			var sum int32
			for c := range ch {
				sum += int32(buf[i*ch+c])
			}
			mono[i] = int16(sum / int32(ch))
		}
	}
	d.mu.Lock()
	d.stats.CaptureDropped += int64(d.capture.Write(mono))
	if flags&paXrun != 0 {
		d.stats.DeviceUnderflows++
	}
	d.mu.Unlock()
	select {
	case d.ready <- struct{}{}:
	default:
	}
}

// onPlayback runs on PortAudio's thread and must fill buf at once.
func (d *PortAudioDevice) onPlayback(buf []int16, ch int, flags pa.StreamCallbackFlags) {
	n := len(buf) / ch
	mono := buf[:n]
	if ch > 1 {
		if cap(d.oscratch) < n {
			d.oscratch = make([]int16, n)
		}
		mono = d.oscratch[:n]
	}
	d.mu.Lock()
	got := d.playback.Read(mono)
	if got > 0 {
		d.primed = true
	}
	if got < n && d.primed {
		d.stats.PlaybackUnderflow += int64(n - got)
	}
	if flags&paXrun != 0 {
		d.stats.DeviceUnderflows++
	}
	d.mu.Unlock()
	clear(mono[got:])
	if ch > 1 {
		for i := n - 1; i >= 0; i-- {
			for c := range ch {
				buf[i*ch+c] = mono[i]
			}
		}
	}
}

// ReadFrame blocks until a 20 ms microphone frame is captured.
func (d *PortAudioDevice) ReadFrame(f []int16) error {
	if len(f) != DeviceFrameSamples {
		return fmt.Errorf("portaudio read %d samples, want %d: %w", len(f), DeviceFrameSamples, ErrShortBuffer)
	}
	var timer *time.Timer
	for {
		select {
		case <-d.closed:
			return ErrClosed
		default:
		}
		d.mu.Lock()
		if d.capture.Len() >= len(f) {
			d.capture.Read(f)
			d.mu.Unlock()
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		d.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(d.cfg.stall)
		}
		select {
		case <-d.ready:
		case <-d.closed:
			timer.Stop()
			return ErrClosed
		case <-timer.C:
			return fmt.Errorf("portaudio capture: no audio for %v: %w", d.cfg.stall, ErrStalled)
		}
	}
}

// WriteFrame queues a frame for the speaker; if more than the playback
// queue is waiting the oldest audio is dropped.
func (d *PortAudioDevice) WriteFrame(f []int16) error {
	select {
	case <-d.closed:
		return ErrClosed
	default:
	}
	d.mu.Lock()
	d.stats.PlaybackDropped += int64(d.playback.Write(f))
	d.mu.Unlock()
	return nil
}

// Stats returns the loss counters.
func (d *PortAudioDevice) Stats() PortAudioStats {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stats
}

// Close stops and closes both streams and releases PortAudio.
func (d *PortAudioDevice) Close() error {
	d.once.Do(func() {
		close(d.closed)
		paLibrary.mu.Lock()
		var errs []error
		for _, s := range []*pa.Stream{d.in, d.out} {
			if err := s.Abort(); err != nil {
				errs = append(errs, fmt.Errorf("portaudio abort: %w", err))
			}
			if err := s.Close(); err != nil {
				errs = append(errs, fmt.Errorf("portaudio close: %w", err))
			}
		}
		paLibrary.releaseLocked()
		paLibrary.mu.Unlock()
		d.closeErr = errors.Join(errs...)
	})
	return d.closeErr
}

// Player plays a Source on an output device until stopped: ringtones on
// the ringer device, the settings dialog's test tone. The Source (at
// DeviceRate) is read on PortAudio's thread; do not use it elsewhere while
// it plays.
type Player struct {
	stream *pa.Stream
	once   sync.Once
	err    error
}

// NewPlayer starts playing src on the named output ("" = default).
func NewPlayer(output string, src Source, opts ...PortAudioOption) (*Player, error) {
	cfg := newPortAudioConfig(opts)
	p := &Player{}
	var mono []int16
	err := paLibrary.acquire(func() error {
		dev, err := findDevice(output, false)
		if err != nil {
			return err
		}
		p.stream, _, err = openStream(dev, false, cfg, func(buf []int16, ch int, _ pa.StreamCallbackFlags) {
			if ch == 1 {
				src.Read(buf)
				return
			}
			n := len(buf) / ch
			if cap(mono) < n {
				mono = make([]int16, n)
			}
			src.Read(mono[:n])
			for i := n - 1; i >= 0; i-- {
				for c := range ch {
					buf[i*ch+c] = mono[i]
				}
			}
		})
		if err != nil {
			return err
		}
		if err := p.stream.Start(); err != nil {
			p.stream.Close()
			return fmt.Errorf("start output %q: %w", dev.Name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Stop ends playback at once and releases the device. It is idempotent.
func (p *Player) Stop() error {
	p.once.Do(func() {
		paLibrary.mu.Lock()
		defer paLibrary.mu.Unlock()
		err := p.stream.Abort()
		if cerr := p.stream.Close(); err == nil {
			err = cerr
		}
		paLibrary.releaseLocked()
		if err != nil {
			p.err = fmt.Errorf("player stop: %w", err)
		}
	})
	return p.err
}
