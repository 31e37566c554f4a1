package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

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
