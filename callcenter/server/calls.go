package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

// Limits of GET /v1/calls.
const (
	DefaultCallsLimit = 100
	MaxCallsLimit     = 1000
)

// callsQuery is the parsed query of GET /v1/calls.
type callsQuery struct {
	since, until time.Time
	limit        int
}

// parseCallsQuery reads since and until (RFC 3339) and limit
// (1..MaxCallsLimit, default DefaultCallsLimit).
func parseCallsQuery(q url.Values) (callsQuery, error) {
	out := callsQuery{limit: DefaultCallsLimit}
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"since", &out.since}, {"until", &out.until}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return callsQuery{}, fmt.Errorf("%s: want an RFC 3339 time like 2006-01-02T15:04:05Z, got %q", p.name, v)
		}
		*p.dst = t
	}
	if !out.since.IsZero() && !out.until.IsZero() && out.until.Before(out.since) {
		return callsQuery{}, fmt.Errorf("until (%s) is before since (%s)", q.Get("until"), q.Get("since"))
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxCallsLimit {
			return callsQuery{}, fmt.Errorf("limit: want an integer from 1 to %d, got %q", MaxCallsLimit, v)
		}
		out.limit = n
	}
	return out, nil
}

// handleCalls is GET /v1/calls: the agent's own call records.
func (s *Server) handleCalls(w http.ResponseWriter, r *http.Request, id identity) {
	q, err := parseCallsQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	recs, err := s.store.CallRecords(r.Context(), callcenter.RecordFilter{
		Agent: id.agent.WorkNumber, Since: q.since, Until: q.until, Limit: q.limit,
	})
	if err != nil {
		writeInternal(w, fmt.Errorf("call records of %s: %w", id.agent.WorkNumber, err))
		return
	}
	out := make([]api.CallRecord, len(recs))
	for i, rec := range recs {
		out[i] = wireRecord(rec)
	}
	if s.crm != nil {
		// Notes are part of the call record.
		for i := range out {
			ns, err := s.crm.CallNotes(r.Context(), out[i].CallID)
			if err != nil {
				writeInternal(w, fmt.Errorf("call records of %s: %w", id.agent.WorkNumber, err))
				return
			}
			if len(ns) > 0 {
				out[i].Notes = s.wireNotes(r.Context(), id.agent.WorkNumber, ns)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func wireRecord(r callcenter.CallRecord) api.CallRecord {
	return api.CallRecord{
		CallID:      r.CallID,
		Type:        r.Type.String(),
		Caller:      r.Caller,
		Callee:      r.Callee,
		Agent:       r.Agent,
		Number:      r.Number,
		StartedAt:   r.StartedAt,
		AnsweredAt:  r.AnsweredAt,
		EndedAt:     r.EndedAt,
		DurationSec: r.Duration().Seconds(),
		Result:      r.Result.String(),
		HangupBy:    r.HangupBy.String(),
		Codec:       r.Codec,
		ParentID:    r.ParentID,
	}
}
