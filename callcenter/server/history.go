package server

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

// OfferStore is the part of the store that keeps queue offers: the offers
// an agent did not answer are its missed calls. callcenter/store's SQLite
// store has it. A Store without it gives a history of call records only.
type OfferStore interface {
	// Offers returns the agent's offers made at or after since (zero: no
	// bound), newest first, at most limit (0: no limit); only the ones not
	// answered when missedOnly.
	Offers(ctx context.Context, agent string, since time.Time, missedOnly bool, limit int) ([]callcenter.Offer, error)
}

// historyQuery is the parsed query of GET /v1/history.
type historyQuery struct {
	callsQuery
	missedOnly bool
}

// parseHistoryQuery reads since, until and limit as GET /v1/calls does,
// and missed (a boolean: true, false, 1, 0).
func parseHistoryQuery(q url.Values) (historyQuery, error) {
	cq, err := parseCallsQuery(q)
	if err != nil {
		return historyQuery{}, err
	}
	out := historyQuery{callsQuery: cq}
	if v := q.Get("missed"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return historyQuery{}, fmt.Errorf("missed: want true or false, got %q", v)
		}
		out.missedOnly = b
	}
	return out, nil
}

// handleHistory is GET /v1/history: the agent's calls and the queue offers
// it did not answer, newest first. It works without a center: it only
// reads the store.
func (s *Server) handleHistory(w http.ResponseWriter, r *http.Request, id identity) {
	q, err := parseHistoryQuery(r.URL.Query())
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	wn := id.agent.WorkNumber
	ctx := r.Context()
	var recs []callcenter.CallRecord
	if !q.missedOnly {
		recs, err = s.store.CallRecords(ctx, callcenter.RecordFilter{
			Agent: wn, Since: q.since, Until: q.until, Limit: q.limit,
		})
		if err != nil {
			writeInternal(w, fmt.Errorf("call records of %s: %w", wn, err))
			return
		}
	}
	var offers []callcenter.Offer
	if ofs, ok := s.store.(OfferStore); ok {
		// The store bounds offers below only: with until set, the newest
		// limit offers may all lie after it, so ask for as many as allowed
		// then (a page of history, not the whole of it).
		n := q.limit
		if !q.until.IsZero() {
			n = MaxCallsLimit
		}
		offers, err = ofs.Offers(ctx, wn, q.since, q.missedOnly, n)
		if err != nil {
			writeInternal(w, fmt.Errorf("offers to %s: %w", wn, err))
			return
		}
	}
	writeJSON(w, http.StatusOK, mergeHistory(wn, recs, offers, q.until, q.missedOnly, q.limit))
}

// mergeHistory joins an agent's call records and offers into history rows,
// one per call, newest first, at most limit. A call is missed when the
// agent was offered it and answered none of its offers; a call whose
// record shows this agent answering is never missed.
func mergeHistory(agent string, recs []callcenter.CallRecord, offers []callcenter.Offer, until time.Time, missedOnly bool, limit int) []api.HistoryItem {
	type entry struct {
		item               api.HistoryItem
		unanswered, answer bool
	}
	byID := make(map[string]*entry, len(recs)+len(offers))
	order := make([]*entry, 0, len(recs)+len(offers))
	for _, rec := range recs {
		if _, dup := byID[rec.CallID]; dup {
			continue
		}
		e := &entry{item: recordItem(agent, rec)}
		e.answer = rec.Agent == agent && !rec.AnsweredAt.IsZero()
		byID[rec.CallID] = e
		order = append(order, e)
	}
	for _, o := range offers {
		if !until.IsZero() && !o.OfferedAt.Before(until) {
			continue
		}
		e := byID[o.CallID]
		if e == nil {
			e = &entry{item: offerItem(o)}
			byID[o.CallID] = e
			order = append(order, e)
		} else if e.item.Group == "" {
			e.item.Group = o.Group
		}
		if o.Answered {
			e.answer = true
		} else {
			e.unanswered = true
		}
	}
	out := make([]api.HistoryItem, 0, len(order))
	for _, e := range order {
		e.item.Missed = e.unanswered && !e.answer
		if missedOnly && !e.item.Missed {
			continue
		}
		out = append(out, e.item)
	}
	slices.SortStableFunc(out, func(a, b api.HistoryItem) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.CallID, b.CallID)
	})
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

// recordItem is the history row of a call record; the customer is the
// party that is not the agent.
func recordItem(agent string, rec callcenter.CallRecord) api.HistoryItem {
	customer := rec.Caller
	if rec.Caller == agent {
		customer = rec.Callee
	}
	return api.HistoryItem{CallRecord: wireRecord(rec), Customer: customer, Group: rec.Group}
}

// offerItem is the history row of an offer that has no call record of this
// agent: the call as this agent saw it ring.
func offerItem(o callcenter.Offer) api.HistoryItem {
	res := callcenter.ResultAnswered
	if !o.Answered {
		res = offerResult(o.Reason)
	}
	return api.HistoryItem{
		CallRecord: api.CallRecord{
			CallID:    o.CallID,
			Type:      callcenter.CallInbound.String(),
			Caller:    o.Customer,
			Callee:    o.Agent,
			Agent:     o.Agent,
			Number:    o.CenterNumber,
			StartedAt: o.OfferedAt,
			EndedAt:   o.EndedAt,
			Result:    res.String(),
		},
		Missed:   !o.Answered,
		Customer: o.Customer,
		Group:    o.Group,
	}
}

// offerResult maps an unanswered offer's free-text reason onto a call
// result: the customer hanging up first is a cancelled call, anything
// unknown rang out.
func offerResult(reason string) callcenter.Result {
	switch reason {
	case "caller_hung_up", "caller_hangup", "abandoned":
		return callcenter.ResultCancelled
	}
	if r, err := callcenter.ParseResult(reason); err == nil && r != callcenter.ResultUnknown && r != callcenter.ResultAnswered {
		return r
	}
	return callcenter.ResultNoAnswer
}
