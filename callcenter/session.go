package callcenter

import "time"

// Session is one login of an agent: the API token (stored only as its hash,
// see HashToken) and the HA1s of the per-login SIP secret handed out with it.
// A newer login revokes older sessions (takeover).
type Session struct {
	TokenHash    string
	WorkNumber   string
	Device       string
	SIPHA1MD5    string
	SIPHA1SHA256 string
	CreatedAt    time.Time
	Revoked      bool
}

// RecordFilter selects call records. Zero fields do not filter; records are
// returned newest first.
type RecordFilter struct {
	Agent string    // work number of the agent on the call
	Since time.Time // started at or after
	Until time.Time // started before
	Limit int       // at most this many; 0 means no limit
	// ParentID selects the legs made from one customer call (consult and
	// transfer legs), not the customer call itself.
	ParentID string
	// Numbers selects calls whose caller or callee is one of them (a
	// customer's history); an empty list does not filter.
	Numbers []string
}
