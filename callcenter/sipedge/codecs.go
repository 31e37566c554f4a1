package sipedge

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/emiago/diago/media"
	"github.com/emiago/diago/media/sdp"
)

// agentCodecs are offered/accepted on agent legs: Opus first (wideband
// between softphone and server), G.711 for plain SIP phones, RFC 4733 DTMF.
func agentCodecs() []media.Codec {
	return []media.Codec{media.CodecAudioOpus, media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000}
}

// trunkCodecs are offered/accepted toward the carrier: G.711 only.
func trunkCodecs() []media.Codec {
	return []media.Codec{media.CodecAudioUlaw, media.CodecAudioAlaw, media.CodecTelephoneEvent8000}
}

// checkOffer validates an SDP offer well enough to know diago can answer
// it: it parses, has an audio stream with a connection address, and shares
// an audio codec with ours. It returns the SIP status to refuse with, or 0.
func checkOffer(body []byte, ours []media.Codec) (code int) {
	if len(body) == 0 || !sdpSafe(body) {
		return 400
	}
	// The SDP parser below is diago's, written for well-formed input; a
	// panic on a hostile offer must cost that request, not the server.
	defer func() {
		if recover() != nil {
			code = 400
		}
	}()
	sd := sdp.SessionDescription{}
	if err := sdp.Unmarshal(body, &sd); err != nil || len(sd.Values("v")) != 1 {
		return 400
	}
	if _, err := sd.SessionInformation(); err != nil {
		return 400
	}
	md, err := sd.MediaDescription("audio")
	if err != nil {
		return 488 // no audio stream: nothing we can anchor
	}
	if _, err := sd.ConnectionInformation(); err != nil {
		return 400
	}
	switch md.Proto {
	case "RTP/AVP", "RTP/SAVP", "UDP/TLS/RTP/SAVP", "UDP/TLS/RTP/SAVPF":
	default:
		return 488
	}
	if md.Port <= 0 || md.Port > 65535 {
		return 400
	}
	// Map the offer's payload types to names (static types and rtpmap).
	names := map[string]string{"0": "pcmu/8000", "8": "pcma/8000"}
	for _, a := range sd.Values("a") {
		if !strings.HasPrefix(a, "rtpmap:") {
			continue
		}
		pt, enc, ok := strings.Cut(strings.TrimPrefix(a, "rtpmap:"), " ")
		if !ok {
			continue
		}
		enc = strings.ToLower(enc)
		if i := strings.LastIndex(enc, "/"); strings.Count(enc, "/") == 2 && i > 0 {
			enc = enc[:i] // drop the channel count
		}
		names[pt] = enc
	}
	for _, f := range md.Formats {
		n := names[f]
		for _, c := range ours {
			if c.Name == "telephone-event" {
				continue
			}
			if n == strings.ToLower(c.Name)+"/"+strconv.Itoa(int(c.SampleRate)) {
				return 0
			}
		}
	}
	return 488
}

// sdpSafe reports whether diago's SDP code (v0.31.0, media/sdp) can read
// body without panicking. Two traps: nextLine indexes line[len-2] of every
// line, so an empty LF-only line ("\n" first, or "\n\n") crashes it; and
// ConnectionInformation takes three fields of the c= line without counting
// them. In-dialog offers (re-INVITE, ACK) reach that code with no other
// check, so this must cover every panic (FuzzSDPSafe).
func sdpSafe(body []byte) bool {
	if len(body) == 0 || body[0] == '\n' || bytes.Contains(body, []byte("\n\n")) {
		return false
	}
	for line := range bytes.Lines(body) {
		if v, ok := bytes.CutPrefix(line, []byte("c=")); ok && len(bytes.Fields(v)) < 3 {
			return false
		}
	}
	return true
}

// reasonPhrase is the RFC 3261 reason phrase for the statuses the edge sends.
func reasonPhrase(code int) string {
	switch code {
	case 400:
		return "Bad Request"
	case 403:
		return "Forbidden"
	case 404:
		return "Not Found"
	case 408:
		return "Request Timeout"
	case 410:
		return "Gone"
	case 480:
		return "Temporarily Unavailable"
	case 483:
		return "Too Many Hops"
	case 484:
		return "Address Incomplete"
	case 486:
		return "Busy Here"
	case 487:
		return "Request Terminated"
	case 488:
		return "Not Acceptable Here"
	case 500:
		return "Server Internal Error"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 600:
		return "Busy Everywhere"
	case 603:
		return "Decline"
	case 604:
		return "Does Not Exist Anywhere"
	}
	return "Error"
}
