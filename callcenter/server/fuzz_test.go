package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

// FuzzDecodeLogin feeds arbitrary bodies to the JSON decoder of /v1/login:
// it must never panic, and whatever it accepts must be exactly one object
// that re-encodes to the same request.
func FuzzDecodeLogin(f *testing.F) {
	for _, s := range []string{
		`{"work_number":"1001","password":"pw","device":"pc"}`,
		`{"work_number":"1001"}  `,
		`{"work_number":"1001"} {}`,
		`{"x":1}`, `[]`, `null`, `"s"`, ``, `{`, `{"password":"\u0000"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPost, "/v1/login", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		var req api.LoginRequest
		err := decodeJSON(httptest.NewRecorder(), r, &req)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		b, _ := json.Marshal(req)
		var again api.LoginRequest
		if err := json.Unmarshal(b, &again); err != nil || again != req {
			t.Fatalf("accepted %q as %+v, which does not round-trip", body, req)
		}
	})
}

// FuzzParseCallsQuery: any query string parses or fails with a message;
// what parses is within bounds.
func FuzzParseCallsQuery(f *testing.F) {
	for _, s := range []string{
		"", "limit=5", "since=2025-01-01T00:00:00Z&until=2025-02-01T00:00:00+08:00",
		"limit=-1", "limit=99999999999999999999", "since=x", "until=2025-01-01T00:00:00Z&since=2026-01-01T00:00:00Z",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		cq, err := parseCallsQuery(q)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if cq.limit < 1 || cq.limit > MaxCallsLimit {
			t.Fatalf("limit %d out of range for %q", cq.limit, raw)
		}
		if !cq.since.IsZero() && !cq.until.IsZero() && cq.until.Before(cq.since) {
			t.Fatalf("until before since accepted for %q", raw)
		}
	})
}

// FuzzParseStatusChange: any PUT /v1/me/status body is refused with a
// message or becomes a change of known values only, consistent with itself.
func FuzzParseStatusChange(f *testing.F) {
	for _, s := range []string{
		`{"phone":"idle"}`, `{"presence":"custom","custom":"meeting"}`, `{"custom":"break"}`,
		`{"presence":"away"}`, `{"presence":"custom"}`, `{"presence":"online","custom":"meeting"}`,
		`{"auto_answer":true,"phone":"busy","presence":"offline"}`, `{}`, `{"phone":null}`, `{"phone":1}`, `[]`,
	} {
		f.Add(s)
	}
	customs := []callcenter.CustomStatus{{Name: "meeting"}, {Name: "break"}}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest(http.MethodPut, "/v1/me/status", strings.NewReader(body))
		var req api.StatusChange
		if err := decodeJSON(httptest.NewRecorder(), r, &req); err != nil {
			return
		}
		ch, err := parseStatusChange(req, customs)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if ch.Presence != nil && (*ch.Presence < callcenter.PresenceOffline || *ch.Presence > callcenter.PresenceCustom) {
			t.Fatalf("presence %d from %q", *ch.Presence, body)
		}
		if ch.Phone != nil && *ch.Phone != callcenter.PhoneBusy && *ch.Phone != callcenter.PhoneIdle {
			t.Fatalf("phone %d from %q", *ch.Phone, body)
		}
		custom := ch.Presence != nil && *ch.Presence == callcenter.PresenceCustom
		if custom != (ch.Custom != nil) {
			t.Fatalf("presence %v with custom %v from %q", ch.Presence, ch.Custom, body)
		}
		if ch.Custom != nil && *ch.Custom != "meeting" && *ch.Custom != "break" {
			t.Fatalf("unknown custom %q accepted from %q", *ch.Custom, body)
		}
	})
}

// FuzzParseHistoryQuery: any query parses or fails with a message; missed
// is only set by a boolean.
func FuzzParseHistoryQuery(f *testing.F) {
	for _, s := range []string{"", "missed=true", "missed=1&limit=5", "missed=yes", "missed=", "since=2025-01-01T00:00:00Z&missed=false"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		hq, err := parseHistoryQuery(q)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if b, err := strconv.ParseBool(q.Get("missed")); hq.missedOnly && (err != nil || !b) {
			t.Fatalf("missed set from %q", raw)
		}
		if hq.limit < 1 || hq.limit > MaxCallsLimit {
			t.Fatalf("limit %d from %q", hq.limit, raw)
		}
	})
}

// FuzzMergeHistory: whatever the records and offers, the history has each
// call once, newest first, at most limit rows, and marks a call missed only
// if the agent had an unanswered offer of it and answered none.
func FuzzMergeHistory(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, uint8(3), false)
	f.Add([]byte{0, 0, 0, 0}, uint8(1), true)
	f.Fuzz(func(t *testing.T, data []byte, limit uint8, missedOnly bool) {
		// Each 3 bytes make a record or an offer: kind, call (few ids, so
		// they collide), minute.
		var recs []callcenter.CallRecord
		var offers []callcenter.Offer
		for i := 0; i+2 < len(data); i += 3 {
			id := fmt.Sprint("c", data[i+1]%6)
			at := t0.Add(time.Duration(data[i+2]) * time.Minute)
			switch data[i] % 4 {
			case 0: // record answered by the agent
				recs = append(recs, callcenter.CallRecord{CallID: id, Agent: "1001", Caller: "138", Callee: "1001", StartedAt: at, AnsweredAt: at})
			case 1: // record not answered
				recs = append(recs, callcenter.CallRecord{CallID: id, Agent: "1001", Caller: "1001", Callee: "139", StartedAt: at})
			case 2:
				offers = append(offers, callcenter.Offer{CallID: id, Agent: "1001", OfferedAt: at, Answered: true})
			case 3:
				offers = append(offers, callcenter.Offer{CallID: id, Agent: "1001", OfferedAt: at})
			}
		}
		// Records with a repeated call id keep the first one, as a store
		// with unique call ids would never return two.
		seenRec := map[string]bool{}
		recs = slices.DeleteFunc(recs, func(r callcenter.CallRecord) bool {
			dup := seenRec[r.CallID]
			seenRec[r.CallID] = true
			return dup
		})
		unanswered, answered := map[string]bool{}, map[string]bool{}
		for _, r := range recs {
			if !r.AnsweredAt.IsZero() {
				answered[r.CallID] = true
			}
		}
		for _, o := range offers {
			if o.Answered {
				answered[o.CallID] = true
			} else {
				unanswered[o.CallID] = true
			}
		}
		items := mergeHistory("1001", recs, offers, time.Time{}, missedOnly, int(limit))
		if limit > 0 && len(items) > int(limit) {
			t.Fatalf("%d rows over limit %d", len(items), limit)
		}
		seen := map[string]bool{}
		for i, it := range items {
			if seen[it.CallID] {
				t.Fatalf("call %s twice", it.CallID)
			}
			seen[it.CallID] = true
			if i > 0 && it.StartedAt.After(items[i-1].StartedAt) {
				t.Fatalf("row %d newer than row %d", i, i-1)
			}
			if want := unanswered[it.CallID] && !answered[it.CallID]; it.Missed != want {
				t.Fatalf("call %s missed %v, want %v", it.CallID, it.Missed, want)
			}
			if missedOnly && !it.Missed {
				t.Fatalf("call %s not missed in a missed-only history", it.CallID)
			}
		}
	})
}
