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

// NoteFilter selects notes, newest first. Zero fields do not filter.
type NoteFilter struct {
	Customers []string // notes about any of these numbers
	CallID    string   // notes of this call
	Limit     int      // at most this many; 0 means no limit
}

// CallbackFilter selects callbacks, by due time then ID. Zero fields do not
// filter.
type CallbackFilter struct {
	Agent    string
	Numbers  []string        // whom to call, any of these
	States   []CallbackState // in any of these states
	DueFrom  time.Time       // due at or after
	DueUntil time.Time       // due before
	// Unreminded selects callbacks whose due reminder was not sent yet.
	Unreminded bool
	Limit      int // at most this many; 0 means no limit
}

// CustomerFilter selects customers, ordered by name then ID. Zero fields
// do not filter.
type CustomerFilter struct {
	// Query matches a name substring (case-insensitive for ASCII), or a
	// number prefix or suffix.
	Query  string
	Owner  string // owner agent's work number
	Number string // one of its numbers, exactly
	Limit  int    // at most this many; 0 means no limit
}

// Limits of in-call work, checked by the store (bad input never reaches
// the database) and by callcenter/crm.
const (
	MaxNoteLen         = 2000 // characters of a note
	MaxRemarkLen       = 500  // characters of a callback's remark
	MaxCustomerNumbers = 10
	MaxCompanyLen      = 128 // characters
	MaxTags            = 20
	MaxTagLen          = 32 // characters
	MaxFields          = 20
	MaxFieldKeyLen     = 32  // characters
	MaxFieldValueLen   = 256 // characters
	MaxCallIDLen       = 256 // bytes
)
