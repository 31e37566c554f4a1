package pstnsim

import (
	"fmt"
	"strings"
)

// Outcome is what the simulated network does with a call the center places
// toward a customer. The dialled number's last four digits choose it (see the
// package documentation for the table), so a test or an outbound task picks
// the outcome it wants by the number it dials.
type Outcome int

const (
	// OutcomeAnswer rings briefly (180) and answers (200).
	OutcomeAnswer Outcome = iota
	// OutcomeAnswerLate rings for the full ring time, then answers.
	OutcomeAnswerLate
	// OutcomeBusy rejects at once with 486 Busy Here.
	OutcomeBusy
	// OutcomeNoAnswer rings for the ring time, then gives up with 480
	// (Q.850 cause 19, no answer from user) unless the caller cancels first.
	OutcomeNoAnswer
	// OutcomeUnreachable rejects at once with 480 (Q.850 cause 18, no user
	// responding): the network could not page the handset right now.
	OutcomeUnreachable
	// OutcomePoweredOff sends 183 with an early-media announcement (the
	// Special Information Tone), then 480 (Q.850 cause 20, subscriber
	// absent): the handset is detached from the network.
	OutcomePoweredOff
	// OutcomeInvalid rejects at once with 404 (Q.850 cause 1, unallocated number).
	OutcomeInvalid
)

var outcomeNames = [...]string{
	OutcomeAnswer:      "answer",
	OutcomeAnswerLate:  "answer-late",
	OutcomeBusy:        "busy",
	OutcomeNoAnswer:    "no-answer",
	OutcomeUnreachable: "unreachable",
	OutcomePoweredOff:  "powered-off",
	OutcomeInvalid:     "invalid-number",
}

func (o Outcome) String() string {
	if o >= 0 && int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// outcomeSuffixes maps the last four digits of a dialled number to its
// scripted outcome. Everything else is answered after a short ring.
var outcomeSuffixes = map[string]Outcome{
	"0000": OutcomeAnswerLate,
	"0486": OutcomeBusy,
	"0408": OutcomeNoAnswer,
	"0480": OutcomeUnreachable,
	"0503": OutcomePoweredOff,
	"0404": OutcomeInvalid,
}

// OutcomeFor returns the scripted outcome for a dialled number. Only digits
// count, so "+86 138-0013-0486" and "8613800130486" both mean busy.
func OutcomeFor(number string) Outcome {
	digits := make([]byte, 0, len(number))
	for i := 0; i < len(number); i++ {
		if c := number[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if len(digits) < 4 {
		return OutcomeAnswer
	}
	if o, ok := outcomeSuffixes[string(digits[len(digits)-4:])]; ok {
		return o
	}
	return OutcomeAnswer
}

// Final returns the final SIP status, its reason phrase and the RFC 3326
// Reason header value the simulator sends for an outcome that rejects the
// call. For outcomes that answer it returns 200.
func (o Outcome) Final() (status int, phrase, reason string) {
	switch o {
	case OutcomeBusy:
		return 486, "Busy Here", q850(17, "User busy")
	case OutcomeNoAnswer:
		return 480, "Temporarily Unavailable", q850(19, "No answer from user")
	case OutcomeUnreachable:
		return 480, "Temporarily Unavailable", q850(18, "No user responding")
	case OutcomePoweredOff:
		return 480, "Temporarily Unavailable", q850(20, "Subscriber absent")
	case OutcomeInvalid:
		return 404, "Not Found", q850(1, "Unallocated number")
	default:
		return 200, "OK", ""
	}
}

// Rings reports whether the outcome sends 180 Ringing before its final answer.
func (o Outcome) Rings() bool {
	switch o {
	case OutcomeAnswer, OutcomeAnswerLate, OutcomeNoAnswer:
		return true
	}
	return false
}

func q850(cause int, text string) string {
	return fmt.Sprintf("Q.850;cause=%d;text=%q", cause, strings.ReplaceAll(text, `"`, ""))
}
