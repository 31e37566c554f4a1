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
	items, err := s.history(r.Context(), id.agent.WorkNumber, q)
	if err != nil {
		writeInternal(w, err)
		return
	}
	s.describeHistory(r.Context(), id.agent.WorkNumber, items)
	writeJSON(w, http.StatusOK, items)
}

// NumberDescriber is optionally implemented by the Center (*center.Center
// does): who a number is for an agent, its name in the customer library
// and its region (号码归属地), each "" when unknown.
type NumberDescriber interface {
	DescribeNumber(ctx context.Context, agent, number string) (name, region string)
}

// describeHistory fills the rows' customer name and region, each number
// looked up once. Without a NumberDescriber the rows stay as they are.
func (s *Server) describeHistory(ctx context.Context, agent string, items []api.HistoryItem) {
	d, ok := s.center.(NumberDescriber)
	if !ok || len(items) == 0 {
		return
	}
	type who struct{ name, region string }
	seen := map[string]who{}
	for i := range items {
		it := &items[i]
		w, ok := seen[it.Customer]
		if !ok {
			w.name, w.region = d.DescribeNumber(ctx, agent, it.Customer)
			seen[it.Customer] = w
		}
		if it.Name == "" {
			it.Name = w.name
		}
		if it.Region == "" {
			it.Region = w.region
		}
	}
}

// maxOfferRead bounds the offers one history request reads.
const maxOfferRead = 16 * MaxCallsLimit

// history reads the agent's records and offers and merges them.
//
// One call may have several offers (missed, offered again, answered), so
// limit offers do not make limit calls. Offers are read newest first, in
// pages that double until the page is full of calls and the oldest offer
// read is older than the last call kept: an older offer belongs to an older
// call (a call starts before it is offered), so it can change nothing kept.
//
// Missed calls alone: a missed offer's call may have been answered at a
// later offer, so every offer since the oldest missed one read is read too.
// The center records an answered offer for each answer of a queue call,
// and calls that are not queue calls are never missed.
func (s *Server) history(ctx context.Context, wn string, q historyQuery) ([]api.HistoryItem, error) {
	var recs []callcenter.CallRecord
	if !q.missedOnly {
		var err error
		recs, err = s.store.CallRecords(ctx, callcenter.RecordFilter{
			Agent: wn, Since: q.since, Until: q.until, Limit: q.limit,
		})
		if err != nil {
			return nil, fmt.Errorf("call records of %s: %w", wn, err)
		}
	}
	for n := q.limit; ; n = min(2*n, maxOfferRead) {
		read, offers, err := s.offerPage(ctx, wn, q, n)
		if err != nil {
			return nil, err
		}
		items := mergeHistory(wn, recs, offers, q.until, q.missedOnly, q.limit)
		switch {
		case read < n, n == maxOfferRead:
			return items, nil // every offer there is, or as many as we read
		case q.missedOnly && len(items) == q.limit:
			return items, nil // an older missed offer cannot unmiss a kept call
		case len(items) == q.limit && len(offers) > 0 &&
			offers[len(offers)-1].OfferedAt.Before(items[len(items)-1].StartedAt):
			return items, nil
		}
	}
}

// offerPage reads the agent's newest n offers (missed ones with
// q.missedOnly, then all offers since the oldest of them); read is how
// many of the n were there.
func (s *Server) offerPage(ctx context.Context, wn string, q historyQuery, n int) (read int, offers []callcenter.Offer, err error) {
	offers, err = s.store.Offers(ctx, wn, q.since, q.missedOnly, n)
	if err != nil {
		return 0, nil, fmt.Errorf("offers to %s: %w", wn, err)
	}
	read = len(offers)
	if q.missedOnly && read > 0 {
		offers, err = s.store.Offers(ctx, wn, offers[read-1].OfferedAt, false, 0)
		if err != nil {
			return 0, nil, fmt.Errorf("offers to %s: %w", wn, err)
		}
	}
	return read, offers, nil
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
	byID := make(map[string]int, len(recs)+len(offers)) // index in entries
	entries := make([]entry, 0, len(recs)+len(offers))
	for _, rec := range recs {
		if _, dup := byID[rec.CallID]; dup {
			continue
		}
		byID[rec.CallID] = len(entries)
		entries = append(entries, entry{
			item:   recordItem(agent, rec),
			answer: rec.Agent == agent && !rec.AnsweredAt.IsZero(),
		})
	}
	for _, o := range offers {
		if !until.IsZero() && !o.OfferedAt.Before(until) {
			continue
		}
		i, ok := byID[o.CallID]
		if !ok {
			i = len(entries)
			byID[o.CallID] = i
			entries = append(entries, entry{item: offerItem(o)})
		}
		e := &entries[i]
		if e.item.Group == "" {
			e.item.Group = o.Group
		}
		if o.Answered {
			e.answer = true
		} else {
			e.unanswered = true
		}
	}
	out := make([]api.HistoryItem, 0, len(entries))
	for _, e := range entries {
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
