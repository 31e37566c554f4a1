package pstnsim

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/emiago/diago"
	"github.com/emiago/diago/media"

	"github.com/agentphone/agentphone/audio"
)

// mediaLoop is an answered call's two media goroutines.
type mediaLoop struct {
	stopSend chan struct{}
	wg       sync.WaitGroup
}

// stop ends sending, closes the media (which unblocks the reader) and
// waits for both goroutines.
func (m *mediaLoop) stop(closeMedia func() error) {
	close(m.stopSend)
	_ = closeMedia()
	m.wg.Wait()
}

// negotiated returns the audio codec and telephone-event codec the call
// settled on, and the matching G.711 codec from package audio.
func negotiated(ms *media.MediaSession) (media.Codec, media.Codec, audio.Codec, error) {
	mc := media.CodecAudioFromSession(ms)
	te := media.CodecTelephoneEvent8000
	for _, c := range ms.CommonCodecs() {
		if strings.HasPrefix(c.Name, "telephone-event") && c.SampleRate == sampleRate {
			te = c
			break
		}
	}
	ac, err := audio.CodecByName(mc.Name)
	if err != nil {
		return mc, te, ac, fmt.Errorf("negotiated codec %q: %w", mc.Name, err)
	}
	if ac.SampleRate() != sampleRate {
		return mc, te, ac, fmt.Errorf("negotiated codec %q runs at %d Hz: %w", mc.Name, ac.SampleRate(), audio.ErrUnsupportedCodec)
	}
	return mc, te, ac, nil
}

func (c *Call) startMedia(dm *diago.DialogMedia, voice audio.Source) (*mediaLoop, error) {
	ms := dm.MediaSession()
	if ms == nil || dm.RTPPacketReader == nil || dm.RTPPacketWriter == nil {
		return nil, errors.New("no media session")
	}
	mc, te, ac, err := negotiated(ms)
	if err != nil {
		return nil, err
	}
	enc, err := ac.NewEncoder()
	if err != nil {
		return nil, fmt.Errorf("encoder %s: %w", ac.Name(), err)
	}
	dec, err := ac.NewDecoder()
	if err != nil {
		return nil, fmt.Errorf("decoder %s: %w", ac.Name(), err)
	}
	aw, err := dm.AudioWriter()
	if err != nil {
		return nil, fmt.Errorf("audio writer: %w", err)
	}
	// Voice and DTMF share one RTP stream; the DTMF writer's lock keeps an
	// event's packets from interleaving with voice frames.
	w := media.NewRTPDTMFWriter(te, dm.RTPPacketWriter, aw)
	c.mu.Lock()
	c.dtmf = w
	c.mu.Unlock()

	m := &mediaLoop{stopSend: make(chan struct{})}
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		pcm := make([]int16, ac.FrameSamples())
		payload := make([]byte, media.RTPBufSize)
		for {
			select {
			case <-m.stopSend:
				return
			default:
			}
			voice.Read(pcm)
			n, err := enc.Encode(pcm, payload)
			if err != nil {
				c.log.Error("encode voice", "error", err)
				return
			}
			// Write blocks until the next 20 ms tick: real-time pacing.
			if _, err := w.Write(payload[:n]); err != nil {
				c.log.Debug("voice stopped", "error", err)
				return
			}
		}
	}()
	reader := dm.RTPPacketReader
	go func() {
		defer m.wg.Done()
		buf := make([]byte, media.RTPBufSize)
		pcm := make([]int16, media.RTPBufSize)
		for {
			n, err := reader.Read(buf)
			if err != nil {
				return
			}
			if n > 0 && reader.PacketHeader.PayloadType == te.PayloadType {
				c.gotDTMF(buf[:n], reader.PacketHeader.Timestamp)
				continue
			}
			if n == 0 || reader.PacketHeader.PayloadType != mc.PayloadType {
				continue // comfort noise, or nothing
			}
			k, err := dec.Decode(buf[:n], pcm)
			if err != nil {
				c.log.Debug("decode", "error", err)
				continue
			}
			c.mu.Lock()
			c.rec.write(pcm[:k])
			c.mu.Unlock()
		}
	}()
	return m, nil
}

// gotDTMF keeps the digit of an RFC 4733 telephone-event packet. One key
// press is several packets (updates, then the end three times) sharing
// one RTP timestamp, so a digit is kept once per event: a packet starts a
// new event when its timestamp differs (RFC 4733 §2.5.1.2) or, for
// senders that do not advance the timestamp while no voice flows (diago's
// writer), when an update follows an event's end.
func (c *Call) gotDTMF(payload []byte, ts uint32) {
	var ev media.DTMFEvent
	if err := media.DTMFDecode(payload, &ev); err != nil || ev.Event > 15 {
		return // too short, or not a keypad event (flash, tones)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	same := c.dtmfSeen && ts == c.dtmfTS && !(c.dtmfEnded && !ev.EndOfEvent)
	c.dtmfEnded = ev.EndOfEvent
	if same {
		return
	}
	c.dtmfSeen, c.dtmfTS = true, ts
	if len(c.digits) < maxDigits {
		c.digits = append(c.digits, byte(media.DTMFToRune(ev.Event)))
	}
}

// maxDigits bounds the digits kept per call.
const maxDigits = 256

// playEarly sends src as early media for d (183 must have been sent), in
// real time, until d has elapsed or stop fires.
func playEarly(dm *diago.DialogMedia, src audio.Source, frames int, stop <-chan struct{}) error {
	ms := dm.MediaSession()
	if ms == nil || dm.RTPPacketWriter == nil {
		return errors.New("no early media session")
	}
	_, _, ac, err := negotiated(ms)
	if err != nil {
		return err
	}
	enc, err := ac.NewEncoder()
	if err != nil {
		return fmt.Errorf("encoder %s: %w", ac.Name(), err)
	}
	aw, err := dm.AudioWriter()
	if err != nil {
		return fmt.Errorf("audio writer: %w", err)
	}
	pcm := make([]int16, ac.FrameSamples())
	payload := make([]byte, media.RTPBufSize)
	for i := 0; i < frames; i++ {
		select {
		case <-stop:
			return nil
		default:
		}
		src.Read(pcm)
		n, err := enc.Encode(pcm, payload)
		if err != nil {
			return fmt.Errorf("encode announcement: %w", err)
		}
		if _, err := aw.Write(payload[:n]); err != nil {
			return fmt.Errorf("send announcement: %w", err)
		}
	}
	return nil
}
