package audio

import (
	"fmt"

	"github.com/hraban/opus"
)

// Opus settings (docs/DECISIONS.md): 48 kHz mono, 20 ms, VoIP application,
// in-band FEC with 10% expected loss, DTX off, ~32 kbit/s (wideband speech
// with room for the FEC copy).
const (
	opusRate     = 48000
	opusBitrate  = 32000
	opusLossPerc = 10
)

type opusEncoder struct{ enc *opus.Encoder }

func newOpusEncoder() (*opusEncoder, error) {
	enc, err := opus.NewEncoder(opusRate, 1, opus.AppVoIP)
	if err != nil {
		return nil, fmt.Errorf("opus encoder: %w", err)
	}
	for _, set := range []struct {
		what string
		err  error
	}{
		{"bitrate", enc.SetBitrate(opusBitrate)},
		{"in-band FEC", enc.SetInBandFEC(true)},
		{"loss percentage", enc.SetPacketLossPerc(opusLossPerc)},
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
