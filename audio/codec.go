package audio

import (
	"fmt"
	"strings"
)

// Codec describes one RTP audio codec at its native rate. Encoders and
// decoders are stateful (Opus, PLC history) and belong to one stream each.
type Codec interface {
	// Name is the RTP/SDP encoding name: "PCMU", "PCMA", "opus".
	Name() string
	// PayloadType is the static payload type (0, 8) or, for Opus, the
	// dynamic one diago offers (96). Negotiation may pick another number.
	PayloadType() uint8
	// ClockRate is the RTP timestamp clock: 8000, 8000, 48000.
	ClockRate() int
	// SampleRate is the PCM rate of Encode input and Decode output.
	SampleRate() int
	// FrameSamples is the number of samples in one FrameDuration at SampleRate.
	FrameSamples() int
	NewEncoder() (Encoder, error)
	NewDecoder() (Decoder, error)
}

// Encoder turns one frame of PCM into one RTP payload.
type Encoder interface {
	// Encode writes the payload for pcm into dst and returns its length.
	Encode(pcm []int16, dst []byte) (int, error)
}

// Decoder turns RTP payloads back into PCM.
type Decoder interface {
	// Decode writes the PCM of payload into dst and returns the sample count.
	Decode(payload []byte, dst []int16) (int, error)
	// Conceal fills dst with one frame of loss concealment for a missing
	// packet. next is the payload of the packet after the gap when known
	// (Opus rebuilds the lost frame from its in-band FEC), else nil.
	Conceal(next []byte, dst []int16) (int, error)
}

// CodecID names one of the codecs implemented here. The constants are the
// Codec values to use; being constants they cannot be swapped at run time.
type CodecID uint8

const (
	// PCMU is G.711 µ-law, 8 kHz, static payload type 0.
	PCMU CodecID = iota + 1
	// PCMA is G.711 A-law, 8 kHz, static payload type 8.
	PCMA
	// Opus is Opus mono at 48 kHz, dynamic payload type 96.
	Opus
)

// Codecs lists every implemented codec in order of preference for offers.
func Codecs() []Codec { return []Codec{Opus, PCMU, PCMA} }

// CodecByName finds a codec by its SDP encoding name, case-insensitively.
func CodecByName(name string) (Codec, error) {
	for _, c := range []CodecID{PCMU, PCMA, Opus} {
		if strings.EqualFold(c.Name(), name) {
			return c, nil
		}
	}
	return nil, fmt.Errorf("codec %q: %w", name, ErrUnsupportedCodec)
}

// String returns the SDP encoding name.
func (c CodecID) String() string { return c.Name() }

// Name implements Codec.
func (c CodecID) Name() string {
	switch c {
	case PCMU:
		return "PCMU"
	case PCMA:
		return "PCMA"
	case Opus:
		return "opus"
	}
	return fmt.Sprintf("CodecID(%d)", uint8(c))
}

// PayloadType implements Codec.
func (c CodecID) PayloadType() uint8 {
	switch c {
	case PCMA:
		return 8
	case Opus:
		return 96
	}
	return 0
}

// ClockRate implements Codec.
func (c CodecID) ClockRate() int {
	if c == Opus {
		return 48000
	}
	return 8000
}

// SampleRate implements Codec.
func (c CodecID) SampleRate() int { return c.ClockRate() }

// FrameSamples implements Codec.
func (c CodecID) FrameSamples() int { return SamplesPerFrame(c.SampleRate()) }

// NewEncoder implements Codec.
func (c CodecID) NewEncoder() (Encoder, error) {
	switch c {
	case PCMU:
		return g711Encoder{table: &g711Tables.ulawEnc}, nil
	case PCMA:
		return g711Encoder{table: &g711Tables.alawEnc}, nil
	case Opus:
		return newOpusEncoder(DefaultOpusOptions())
	}
	return nil, fmt.Errorf("new encoder %v: %w", c, ErrUnsupportedCodec)
}

// NewDecoder implements Codec.
func (c CodecID) NewDecoder() (Decoder, error) {
	switch c {
	case PCMU:
		return newG711Decoder(&g711Tables.ulawDec), nil
	case PCMA:
		return newG711Decoder(&g711Tables.alawDec), nil
	case Opus:
		return newOpusDecoder()
	}
	return nil, fmt.Errorf("new decoder %v: %w", c, ErrUnsupportedCodec)
}
