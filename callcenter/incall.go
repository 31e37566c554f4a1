package callcenter

import "time"

// Domain types of in-call work (issue 4): notes, scheduled callbacks and
// the customer library. Rules live in callcenter/crm; persistence in
// callcenter/store.

// Note is a call note (通话备注), written by one agent about one call with
// a customer. Only its author edits it.
type Note struct {
	ID        int64
	CallID    string
	Customer  string // the customer's number
	Agent     string // author's work number
	Text      string
	CreatedAt time.Time
	UpdatedAt time.Time // zero until edited
}

// CallbackState is the state of a scheduled callback.
type CallbackState int

const (
	CallbackPending CallbackState = iota // due or not yet due, not called
	CallbackDone                         // a completed call to the number after it was made
	CallbackExpired                      // its day passed without a completed call
)

func (s CallbackState) String() string {
	switch s {
	case CallbackPending:
		return "pending"
	case CallbackDone:
		return "done"
	case CallbackExpired:
		return "expired"
	}
	return "unknown"
}

// ParseCallbackState is the inverse of String.
func ParseCallbackState(s string) (CallbackState, bool) {
	for st := CallbackPending; st <= CallbackExpired; st++ {
		if st.String() == s {
			return st, true
		}
	}
	return 0, false
}

// Callback is a scheduled callback (预约回呼) an agent made in a call.
type Callback struct {
	ID        int64
	Agent     string // owner work number
	Number    string // whom to call
	CallID    string // the call it was made in, if any
	DueAt     time.Time
	Remark    string
	State     CallbackState
	DoneCall  string    // the call that completed it
	Reminded  time.Time // when the due reminder was sent; zero before
	CreatedAt time.Time
}

// Customer is an entry of the customer library (客户).
type Customer struct {
	ID        int64
	Name      string
	Numbers   []string // E.164 or as dialled; the first is the main number
	Company   string
	Tags      []string
	Fields    map[string]string // free fields
	Owner     string            // owner agent's work number
	CreatedAt time.Time
	UpdatedAt time.Time
}
