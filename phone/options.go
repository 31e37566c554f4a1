package phone

import (
	"log/slog"
	"time"

	"github.com/agentphone/agentphone/audio"
)

// Option configures a Phone (functional options, DESIGN.md).
type Option func(*config)

type config struct {
	log         *slog.Logger
	listen      string
	openAudio   func() (audio.Device, error)
	codecs      []string
	jitterMin   time.Duration
	jitterMax   time.Duration
	register    bool
	backoffMin  time.Duration
	backoffMax  time.Duration
	authRetry   time.Duration
	regTimeout  time.Duration
	eventBuffer int
}

func defaultConfig() config {
	return config{
		log:       slog.New(slog.DiscardHandler),
		listen:    "127.0.0.1:0",
		codecs:    []string{"opus", "PCMU", "PCMA"},
		jitterMin: 40 * time.Millisecond,
		jitterMax: 60 * time.Millisecond,
		register:  true,
		// 1 s doubling to 30 s: quick recovery after a blip, and a restarted
		// server is not stormed by every agent at once (jitter spreads them).
		backoffMin: time.Second,
		backoffMax: 30 * time.Second,
		// Wrong credentials will not fix themselves; retrying every few
		// seconds only fills the server's log and can trip fail2ban-style
		// protection.
		authRetry: 5 * time.Minute,
		// sipgo's own Timer F is 64*T1 = 32 s; a dead server must be noticed
		// much sooner so the UI can say so and backoff can start.
		regTimeout:  5 * time.Second,
		eventBuffer: 64,
	}
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(c *config) {
		if l != nil {
			c.log = l
		}
	}
}

// WithListen sets the local UDP address for SIP (default "127.0.0.1:0").
// RTP binds to the same IP on ephemeral ports.
func WithListen(hostport string) Option {
	return func(c *config) { c.listen = hostport }
}

// WithAudio sets how the headset is opened. It is called when a call's
// media starts and the device is closed when the call ends. Without it a
// call sends silence and discards what it receives (paced by a timer).
func WithAudio(open func() (audio.Device, error)) Option {
	return func(c *config) { c.openAudio = open }
}

// WithCodecs sets the offered codecs in order of preference, by name
// ("opus", "PCMU", "PCMA"). telephone-event is always added.
func WithCodecs(names ...string) Option {
	return func(c *config) { c.codecs = append([]string(nil), names...) }
}

// WithJitter sets the adaptive jitter buffer's delay bounds
// (default 40–60 ms).
func WithJitter(min, max time.Duration) Option {
	return func(c *config) { c.jitterMin, c.jitterMax = min, max }
}

// WithRegistration turns REGISTER on (default) or off. Off is direct
// peer-to-peer mode: Dial needs a full sip: URI.
func WithRegistration(on bool) Option {
	return func(c *config) { c.register = on }
}

// WithBackoff sets the registration retry backoff bounds (default 1 s to
// 30 s, doubled per failure, with jitter).
func WithBackoff(min, max time.Duration) Option {
	return func(c *config) { c.backoffMin, c.backoffMax = min, max }
}

// WithAuthRetry sets how long to wait before retrying after the registrar
// refused our credentials (default 5 min).
func WithAuthRetry(d time.Duration) Option {
	return func(c *config) { c.authRetry = d }
}

// WithRegisterTimeout bounds one REGISTER exchange (default 5 s).
func WithRegisterTimeout(d time.Duration) Option {
	return func(c *config) { c.regTimeout = d }
}

// WithEventBuffer sets the capacity of the Events channel (default 64).
func WithEventBuffer(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.eventBuffer = n
		}
	}
}
