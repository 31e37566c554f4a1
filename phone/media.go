package phone

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// Stats are a call's media counters.
type Stats struct {
	PacketsSent     uint64
	PacketsReceived uint64
	// Lost counts playout ticks concealed because their packet never came.
	Lost uint64
	// Late counts packets that arrived after their playout time.
	Late uint64
	// Jitter is the RFC 3550 interarrival jitter of the received stream.
	Jitter time.Duration
	// JitterDelay is the audio currently held in the jitter buffer, and
	// JitterTarget the delay it adapts towards (within WithJitter bounds).
	JitterDelay  time.Duration
	JitterTarget time.Duration
}

// RFC 4733 pacing: 100 ms of tone, the end packet sent three times (it
// carries the final duration, and losing it would stretch the digit), then
// a 60 ms gap so IVRs see separate digits.
const (
	dtmfToneTicks = 5
	dtmfEndTicks  = 3
	dtmfGapTicks  = 3
	dtmfVolume    = 10
	dtmfUnits     = 160 // telephone-event/8000 ticks per 20 ms
)

var dtmfCode = map[rune]uint8{
	'0': 0, '1': 1, '2': 2, '3': 3, '4': 4, '5': 5, '6': 6, '7': 7, '8': 8, '9': 9,
	'*': 10, '#': 11, 'A': 12, 'B': 13, 'C': 14, 'D': 15,
}

// mediaPath moves one call's audio: a playout/capture goroutine driven by
// the device clock and an RTP reader goroutine feeding the jitter buffer.
type mediaPath struct {
	c      *Call
	dm     *diago.DialogMedia
	writer *media.RTPPacketWriter
	reader *media.RTPPacketReader

	codec      audio.Codec
	pt         uint8
	frameTicks uint32
	dtmfPT     uint8
	dtmfOK     bool

	dev audio.Device
	enc audio.Encoder
	dec audio.Decoder
	up  *audio.Resampler // mic 48 kHz -> codec rate; nil when equal
	dn  *audio.Resampler // codec rate -> 48 kHz; nil when equal
	jb  *audio.JitterBuffer

	failed   chan error
	closing  atomic.Bool
	stopOnce sync.Once
	wg       sync.WaitGroup

	sent     atomic.Uint64
	received atomic.Uint64
}

// startMedia wires the negotiated session to the audio device and starts
// the two media goroutines.
func (c *Call) startMedia(dm *diago.DialogMedia) (*mediaPath, error) {
	sess := dm.MediaSession()
	if sess == nil || dm.RTPPacketWriter == nil || dm.RTPPacketReader == nil {
		return nil, errors.New("no negotiated media session")
	}
	neg := media.CodecAudioFromSession(sess)
	codec, err := audio.CodecByName(neg.Name)
	if err != nil {
		return nil, fmt.Errorf("negotiated %s: %w", neg.Name, ErrNoCodec)
	}
	m := &mediaPath{
		c:          c,
		dm:         dm,
		writer:     dm.RTPPacketWriter,
		reader:     dm.RTPPacketReader,
		codec:      codec,
		pt:         neg.PayloadType,
		frameTicks: uint32(audio.SamplesPerFrame(codec.ClockRate())),
		failed:     make(chan error, 1),
	}
	for _, cc := range sess.CommonCodecs() {
		if cc.Name == media.CodecTelephoneEvent8000.Name && cc.SampleRate == 8000 {
			m.dtmfPT, m.dtmfOK = cc.PayloadType, true
		}
	}
	if m.enc, err = codec.NewEncoder(); err != nil {
		return nil, err
	}
	if m.dec, err = codec.NewDecoder(); err != nil {
		return nil, err
	}
	if codec.SampleRate() != audio.DeviceRate {
		if m.up, err = audio.NewResampler(audio.DeviceRate, codec.SampleRate()); err != nil {
			return nil, err
		}
		if m.dn, err = audio.NewResampler(codec.SampleRate(), audio.DeviceRate); err != nil {
			return nil, err
		}
	}
	m.jb = audio.NewJitterBuffer(audio.JitterOptions{
		ClockRate:  codec.ClockRate(),
		FrameTicks: int(m.frameTicks),
		MinDelay:   c.p.cfg.jitterMin,
		MaxDelay:   c.p.cfg.jitterMax,
	})
	if open := c.p.cfg.openAudio; open != nil {
		if m.dev, err = open(); err != nil {
			return nil, fmt.Errorf("open audio: %w", err)
		}
	} else {
		m.dev = newNullDevice()
	}

	c.mu.Lock()
	c.codec = codec.Name()
	c.media = m
	c.mu.Unlock()
	c.log.Info("media started", "codec", codec.Name(), "pt", m.pt, "dtmf", m.dtmfOK)

	m.wg.Add(2)
	go m.readLoop()
	go m.deviceLoop()
	return m, nil
}

// stop ends both goroutines and closes the device; safe to call twice.
func (m *mediaPath) stop() {
	m.stopOnce.Do(func() {
		m.closing.Store(true)
		if err := m.dev.Close(); err != nil {
			m.c.log.Warn("close audio device", "err", err)
		}
		// A read deadline in the past unblocks the RTP reader; the socket
		// itself belongs to diago and closes with the dialog.
		if ms := m.dm.MediaSession(); ms != nil {
			_ = ms.StopRTP(1, 0)
		}
		m.wg.Wait()
	})
}

func (m *mediaPath) stats() Stats {
	js := m.jb.Stats()
	return Stats{
		PacketsSent:     m.sent.Load(),
		PacketsReceived: m.received.Load(),
		Lost:            js.Lost,
		Late:            js.Late,
		Jitter:          js.Jitter,
		JitterDelay:     js.Delay,
		JitterTarget:    js.Target,
	}
}

// readLoop pushes received audio payloads into the jitter buffer.
func (m *mediaPath) readLoop() {
	defer m.wg.Done()
	buf := make([]byte, media.RTPBufSize)
	for {
		n, err := m.reader.Read(buf)
		if err != nil {
			if !m.closing.Load() && m.c.State() == Active {
				m.c.log.Debug("rtp reader stopped", "err", err)
			}
			return
		}
		if n == 0 {
			continue
		}
		h := m.reader.PacketHeader
		if h.PayloadType != m.pt {
			// telephone-event from the far end or a stray format: not audio.
			continue
		}
		m.received.Add(1)
		m.jb.Push(h.SequenceNumber, h.Timestamp, buf[:n], time.Now())
	}
}

// deviceLoop runs once per device frame (20 ms, paced by ReadFrame):
// capture → encode → RTP, then jitter buffer → decode/conceal → speaker.
// Doing both directions on one clock keeps playout in step with the device
// and avoids a second timer that would drift against it.
func (m *mediaPath) deviceLoop() {
	defer m.wg.Done()
	mic := make([]int16, audio.DeviceFrameSamples)
	spk := make([]int16, audio.DeviceFrameSamples)
	codecPCM := make([]int16, 6*m.codec.FrameSamples()) // room for 120 ms Opus packets
	upBuf := mic
	if m.up != nil {
		upBuf = make([]int16, m.up.MaxOutput(len(mic)))
	}
	payload := make([]byte, 1500)
	first := true

	var (
		digit      rune
		dtmfTick   int
		dtmfActive bool
		gap        int
	)
	for {
		if err := m.dev.ReadFrame(mic); err != nil {
			if !m.closing.Load() {
				select {
				case m.failed <- err:
				default:
				}
			}
			return
		}
		// A device that outlives the call (a shared headset whose Close is a
		// no-op) never fails ReadFrame, so the stop flag must end the loop.
		if m.closing.Load() {
			return
		}

		// Send: a DTMF event replaces audio while it lasts (RFC 4733 §2.5).
		if !dtmfActive && gap == 0 {
			select {
			case digit = <-m.c.dtmf:
				dtmfActive, dtmfTick = true, 0
			default:
			}
		}
		var err error
		switch {
		case dtmfActive:
			err = m.sendDTMF(digit, dtmfTick)
			dtmfTick++
			if dtmfTick == dtmfToneTicks+dtmfEndTicks {
				// The event held the timestamp at its start; move the
				// audio clock past the time it occupied.
				m.writer.DelayTimestamp(uint32(dtmfTick) * m.frameTicks)
				dtmfActive, gap = false, dtmfGapTicks
			}
		default:
			if gap > 0 {
				gap--
			}
			err = m.sendAudio(mic, upBuf, payload, first)
			first = false
		}
		if err != nil && !m.closing.Load() {
			m.c.log.Debug("rtp write", "err", err)
		}

		// Receive.
		m.playout(codecPCM, spk)
		if err := m.dev.WriteFrame(spk); err != nil {
			if !m.closing.Load() {
				select {
				case m.failed <- err:
				default:
				}
			}
			return
		}
	}
}

func (m *mediaPath) sendAudio(mic, upBuf []int16, payload []byte, marker bool) error {
	if m.c.muted.Load() {
		clear(mic)
	}
	pcm := mic
	if m.up != nil {
		pcm = upBuf[:m.up.Process(mic, upBuf)]
	}
	n, err := m.enc.Encode(pcm, payload)
	if err != nil {
		return err
	}
	if _, err := m.writer.WriteSamples(payload[:n], m.frameTicks, marker, m.pt); err != nil {
		return err
	}
	m.sent.Add(1)
	return nil
}

func (m *mediaPath) sendDTMF(digit rune, tick int) error {
	ev := media.DTMFEvent{Event: dtmfCode[digit], Volume: dtmfVolume}
	if tick < dtmfToneTicks {
		ev.Duration = uint16((tick + 1) * dtmfUnits)
	} else {
		ev.EndOfEvent = true
		ev.Duration = dtmfToneTicks * dtmfUnits
	}
	// Timestamp increment 0: every packet of one event carries the
	// event's start time.
	if _, err := m.writer.WriteSamples(media.DTMFEncode(ev), 0, tick == 0, m.dtmfPT); err != nil {
		return err
	}
	m.sent.Add(1)
	return nil
}

// playout fills spk (48 kHz) with the next tick's audio.
func (m *mediaPath) playout(codecPCM, spk []int16) {
	f, st := m.jb.Pop()
	var n int
	var err error
	switch st {
	case audio.StatusPacket:
		n, err = m.dec.Decode(f.Payload, codecPCM)
	case audio.StatusLost:
		n, err = m.dec.Conceal(f.Next, codecPCM)
	}
	if err != nil {
		m.c.log.Debug("decode", "status", st, "err", err)
		n = 0
	}
	if n > m.codec.FrameSamples() {
		n = m.codec.FrameSamples()
	}
	// Missing samples (empty buffer, decode error, short frame) are
	// silence; the resampler still runs so its history stays continuous.
	clear(codecPCM[n:m.codec.FrameSamples()])
	pcm := codecPCM[:m.codec.FrameSamples()]
	if m.dn == nil {
		copy(spk, pcm)
		return
	}
	got := m.dn.Process(pcm, spk)
	clear(spk[got:])
}

// nullDevice stands in for a headset when the phone has none: it paces
// the media loop in real time, captures silence and discards playback.
type nullDevice struct {
	tick   *time.Ticker
	closed chan struct{}
	once   sync.Once
}

func newNullDevice() *nullDevice {
	return &nullDevice{tick: time.NewTicker(audio.FrameDuration), closed: make(chan struct{})}
}

func (d *nullDevice) ReadFrame(f []int16) error {
	select {
	case <-d.closed:
		return audio.ErrClosed
	case <-d.tick.C:
		clear(f)
		return nil
	}
}

func (d *nullDevice) WriteFrame([]int16) error { return nil }

func (d *nullDevice) Close() error {
	d.once.Do(func() {
		d.tick.Stop()
		close(d.closed)
	})
	return nil
}
