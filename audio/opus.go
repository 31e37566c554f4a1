package audio

import (
	"fmt"

	"github.com/hraban/opus"
)

// opusRate is the only rate we run Opus at: 48 kHz mono, 20 ms frames.
const opusRate = 48000

// OpusOptions tune an Opus encoder. Start from DefaultOpusOptions and
// change what you need: every field is used as given.
type OpusOptions struct {
	// Complexity trades CPU for quality, 0 (cheapest) to 10 (libopus's
	// default). For VoIP speech the steps above 5 buy little: libopus
	// documents 5 as near-identical for speech, at about half the CPU.
	Complexity int
	// Bitrate is the target in bit/s (6000 to 510000).
	Bitrate int
	// FEC enables in-band forward error correction: each packet carries a
	// low-rate copy of the previous frame, which a receiver uses when
	// that frame's packet is lost (Decoder.Conceal with next).
	FEC bool
	// LossPercent is the expected packet loss, 0 to 100: how much of the
	// bitrate the encoder spends on the FEC copy.
	LossPercent int
}

// DefaultOpusOptions returns the settings of docs/DECISIONS.md, which the
// Opus Codec's encoder uses: complexity 10, 32 kbit/s (wideband speech
// with room for the FEC copy), in-band FEC for 10% expected loss. DTX is
// always off: rooms and jitter buffers expect a packet every 20 ms.
func DefaultOpusOptions() OpusOptions {
	return OpusOptions{Complexity: 10, Bitrate: 32000, FEC: true, LossPercent: 10}
}

// Validate reports options libopus would refuse.
func (o OpusOptions) Validate() error {
	switch {
	case o.Complexity < 0 || o.Complexity > 10:
		return fmt.Errorf("opus complexity %d not in 0..10: %w", o.Complexity, ErrBadOption)
	case o.Bitrate < 6000 || o.Bitrate > 510000:
		return fmt.Errorf("opus bitrate %d not in 6000..510000: %w", o.Bitrate, ErrBadOption)
	case o.LossPercent < 0 || o.LossPercent > 100:
		return fmt.Errorf("opus loss percentage %d not in 0..100: %w", o.LossPercent, ErrBadOption)
	}
	return nil
}

type opusEncoder struct{ enc *opus.Encoder }

// NewOpusEncoder returns an Opus encoder (48 kHz mono, 20 ms, VoIP
// application) with opts. The Opus Codec's NewEncoder is
// NewOpusEncoder(DefaultOpusOptions()).
func NewOpusEncoder(opts OpusOptions) (Encoder, error) {
	return newOpusEncoder(opts)
}

func newOpusEncoder(opts OpusOptions) (*opusEncoder, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	enc, err := opus.NewEncoder(opusRate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	for _, set := range []struct {
		what string
		err  error
	}{
		{"complexity", enc.SetComplexity(opts.Complexity)},
		{"bitrate", enc.SetBitrate(opts.Bitrate)},
		{"in-band FEC", enc.SetInBandFEC(opts.FEC)},
		{"loss percentage", enc.SetPacketLossPerc(opts.LossPercent)},
		{"DTX", enc.SetDTX(false)},
	} {
		if set.err != nil {
			return nil, fmt.Errorf("opus encoder %s: %w", set.what, set.err)
		}
	}
	return &opusEncoder{enc: enc}, nil
}

func (e *opusEncoder) Encode(pcm []int16, dst []byte) (int, error) {
	n, err := e.enc.Encode(pcm, dst)
	if err != nil {
		return 0, fmt.Errorf("opus encode %d samples: %w", len(pcm), err)
	}
	return n, nil
}

type opusDecoder struct {
	dec *opus.Decoder
}

func newOpusDecoder() (*opusDecoder, error) {
	dec, err := opus.NewDecoder(opusRate, 1)
	if err != nil {
		return nil, fmt.Errorf("opus decoder: %w", err)
	}
	return &opusDecoder{dec: dec}, nil
}

func (d *opusDecoder) Decode(payload []byte, dst []int16) (int, error) {
	n, err := d.dec.Decode(payload, dst)
	if err != nil {
		return 0, fmt.Errorf("opus decode %d bytes: %w", len(payload), err)
	}
	return n, nil
}

// Conceal rebuilds the missing frame from next's in-band FEC when next is
// known, else lets libopus extrapolate (PLC). libopus sizes the output by
// the slice capacity and wants exactly the missing duration, hence the
// three-index slice.
func (d *opusDecoder) Conceal(next []byte, dst []int16) (int, error) {
	n := SamplesPerFrame(opusRate)
	if last, err := d.dec.LastPacketDuration(); err == nil && last > 0 && last <= 6*n {
		n = last
	}
	if len(dst) < n {
		return 0, fmt.Errorf("opus conceal %d samples: %w", n, ErrShortBuffer)
	}
	frame := dst[:n:n]
	var err error
	if len(next) > 0 {
		err = d.dec.DecodeFEC(next, frame)
	} else {
		err = d.dec.DecodePLC(frame)
	}
	if err != nil {
		return 0, fmt.Errorf("opus conceal: %w", err)
	}
	return n, nil
}
