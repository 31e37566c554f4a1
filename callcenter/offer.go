package callcenter

import "time"

// Offer is one queue call rung at one agent, recorded when the offer ends
// (answered, rung out, rejected, or the customer hung up first). Offers that
// were not answered are the agent's missed calls; ring-all offers one call to
// several agents, so one call may have several offers.
type Offer struct {
	CallID       string
	Agent        string // work number of the agent rung
	Group        string // skill group the call queued in
	Customer     string // the customer's number (to call back)
	CenterNumber string // the center number the customer dialled
	OfferedAt    time.Time
	EndedAt      time.Time // when the offer stopped ringing (or was answered)
	Answered     bool
	// Reason says why an unanswered offer ended, e.g. "no_answer",
	// "rejected", "caller_hung_up"; free text.
	Reason string
}

// Missed reports whether the offer counts as a missed call for the agent:
// one the agent did not answer, whoever ended it.
func (o Offer) Missed() bool { return !o.Answered }
