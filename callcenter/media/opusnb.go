package media

import (
	"fmt"

	"github.com/agentphone/agentphone/audio"
	"github.com/hraban/opus"
)

// Opus legs in a narrowband room. A room with one Opus leg and G.711
// legs (an agent on the softphone talking to the carrier, the common
// call) has nothing wideband to mix: whatever the Opus leg hears was
// 8 kHz at its source, and what it says reaches only 8 kHz ears. Running
// that leg's Opus at 48 kHz would cost a 48 kHz decode, an 8↔48 kHz
// resampler each way and a 48 kHz encode for bandwidth nobody hears, so
// such a room mixes at 8 kHz and the leg's libopus codec runs at 8 kHz
// too (libopus decodes any stream at any of its rates; an encoder fed
// 8 kHz codes narrowband SILK, its cheapest mode). The RTP clock stays
// 48 kHz (RFC 7587), and the far end decodes the stream like any other.
// audio's Opus codec is fixed at 48 kHz, hence this small codec here.

// opusCodec is an Opus encoder and decoder at a PCM rate libopus accepts.
type opusCodec struct {
	rate  int
	frame int // samples per 20 ms at rate
	enc   *opus.Encoder
	dec   *opus.Decoder
}

func newOpusCodec(rate int, o audio.OpusOptions) (*opusCodec, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	enc, err := opus.NewEncoder(rate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus encoder at %d Hz: %w", rate, err)
	}
	for _, set := range []struct {
		what string
		err  error
	}{
		{"complexity", enc.SetComplexity(o.Complexity)},
		{"bitrate", enc.SetBitrate(o.Bitrate)},
		{"in-band FEC", enc.SetInBandFEC(o.FEC)},
		{"loss percentage", enc.SetPacketLossPerc(o.LossPercent)},
		{"DTX", enc.SetDTX(false)},
	} {
		if set.err != nil {
			return nil, fmt.Errorf("opus encoder %s: %w", set.what, set.err)
		}
	}
	dec, err := opus.NewDecoder(rate, 1)
	if err != nil {
		return nil, fmt.Errorf("opus decoder at %d Hz: %w", rate, err)
	}
	return &opusCodec{rate: rate, frame: audio.SamplesPerFrame(rate), enc: enc, dec: dec}, nil
}

func (c *opusCodec) Encode(pcm []int16, dst []byte) (int, error) {
	n, err := c.enc.Encode(pcm, dst)
	if err != nil {
		return 0, fmt.Errorf("opus encode %d samples at %d Hz: %w", len(pcm), c.rate, err)
	}
	return n, nil
}

func (c *opusCodec) Decode(payload []byte, dst []int16) (int, error) {
	n, err := c.dec.Decode(payload, dst)
	if err != nil {
		return 0, fmt.Errorf("opus decode %d bytes at %d Hz: %w", len(payload), c.rate, err)
	}
	return n, nil
}

// Conceal rebuilds the missing frame from next's in-band FEC when next is
// known, else lets libopus extrapolate (PLC). libopus sizes its output by
// the slice, so it gets exactly the missing duration.
func (c *opusCodec) Conceal(next []byte, dst []int16) (int, error) {
	n := c.frame
	if last, err := c.dec.LastPacketDuration(); err == nil && last > 0 && last <= 6*c.frame {
		n = last
	}
	if len(dst) < n {
		return 0, fmt.Errorf("opus conceal %d samples: %w", n, audio.ErrShortBuffer)
	}
	frame := dst[:n:n]
	var err error
	if len(next) > 0 {
		err = c.dec.DecodeFEC(next, frame)
	} else {
		err = c.dec.DecodePLC(frame)
	}
	if err != nil {
		return 0, fmt.Errorf("opus conceal: %w", err)
	}
	return n, nil
}
