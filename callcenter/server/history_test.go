package server

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
)

func (f *faultStore) addOffers(t *testing.T, offers ...callcenter.Offer) {
	t.Helper()
	for _, o := range offers {
		if err := f.RecordOffer(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
}

// historyFixture fills the store with agent 1001's day:
//
//	r1  +1h   inbound, answered by 1001 (an answered offer too)
//	r2  +2h   outbound by 1001
//	q3  +3h   offered to 1001, not answered; 1002 answered it
//	q4  +4h   offered to 1001, the customer hung up while it rang
//	r5  +30m  offered to 1001 and the customer hung up: a record of 1001 too
//	q6  +5h   offered to 1001, missed, offered again and answered
//	x7  +6h   1002's call: not in 1001's history
func historyFixture(t *testing.T, st *faultStore) {
	t.Helper()
	h := func(d time.Duration) time.Time { return t0.Add(d) }
	in := func(id string, start time.Duration, agent string, answered bool) callcenter.CallRecord {
		r := callcenter.CallRecord{CallID: id, Type: callcenter.CallInbound, Caller: "138" + id, Callee: agent,
			Agent: agent, Number: "4008001234", StartedAt: h(start), EndedAt: h(start + 5*time.Minute),
			Result: callcenter.ResultCancelled, HangupBy: callcenter.PartyCaller, Group: "sales"}
		if answered {
			r.AnsweredAt, r.Result = h(start+10*time.Second), callcenter.ResultAnswered
		}
		return r
	}
	st.addRecords(t,
		in("r1", time.Hour, "1001", true),
		callcenter.CallRecord{CallID: "r2", Type: callcenter.CallAgentOutbound, Caller: "1001", Callee: "13900000002",
			Agent: "1001", StartedAt: h(2 * time.Hour), AnsweredAt: h(2*time.Hour + 5*time.Second),
			EndedAt: h(2*time.Hour + time.Minute), Result: callcenter.ResultAnswered, HangupBy: callcenter.PartyCallee},
		in("q3", 3*time.Hour, "1002", true),
		in("r5", 30*time.Minute, "1001", false),
		in("q6", 5*time.Hour, "1001", true),
		in("x7", 6*time.Hour, "1002", true),
	)
	offer := func(id string, at time.Duration, agent string, answered bool, reason string) callcenter.Offer {
		return callcenter.Offer{CallID: id, Agent: agent, Group: "sales", Customer: "138" + id, CenterNumber: "4008001234",
			OfferedAt: h(at), EndedAt: h(at + 10*time.Second), Answered: answered, Reason: reason}
	}
	st.addOffers(t,
		offer("r1", time.Hour, "1001", true, ""),
		offer("q3", 3*time.Hour, "1001", false, "no_answer"),
		offer("q3", 3*time.Hour+20*time.Second, "1002", true, ""),
		offer("q4", 4*time.Hour, "1001", false, "caller_hung_up"),
		offer("r5", 30*time.Minute, "1001", false, "caller_hung_up"),
		offer("q6", 5*time.Hour, "1001", false, "no_answer"),
		offer("q6", 5*time.Hour+30*time.Second, "1001", true, ""),
		offer("x7", 6*time.Hour, "1002", false, "no_answer"),
	)
}

func TestHistory(t *testing.T) {
	e := newEnv(t)
	historyFixture(t, e.st)
	tok := e.login("1001", "pc").Token
	at := func(d time.Duration) string { return url.QueryEscape(t0.Add(d).Format(time.RFC3339)) }
	for _, tc := range []struct {
		query  string
		ids    []string // call ids, newest first
		missed []string // which of them are missed
	}{
		{"", []string{"q6", "q4", "q3", "r2", "r1", "r5"}, []string{"q4", "q3", "r5"}},
		{"?missed=true", []string{"q4", "q3", "r5"}, []string{"q4", "q3", "r5"}},
		{"?missed=0", []string{"q6", "q4", "q3", "r2", "r1", "r5"}, []string{"q4", "q3", "r5"}},
		{"?since=" + at(2*time.Hour), []string{"q6", "q4", "q3", "r2"}, []string{"q4", "q3"}},
		{"?until=" + at(3*time.Hour), []string{"r2", "r1", "r5"}, []string{"r5"}},
		{"?limit=2", []string{"q6", "q4"}, []string{"q4"}},
		{"?missed=true&limit=1", []string{"q4"}, []string{"q4"}},
		{"?missed=true&since=" + at(time.Hour), []string{"q4", "q3"}, []string{"q4", "q3"}},
		{"?since=" + at(7*time.Hour), []string{}, []string{}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			status, b := e.do(http.MethodGet, "/v1/history"+tc.query, tok, "")
			if status != http.StatusOK {
				t.Fatalf("%d %s", status, b)
			}
			items := decodeJSONBody[[]api.HistoryItem](t, b)
			ids, missed := []string{}, []string{}
			for _, it := range items {
				ids = append(ids, it.CallID)
				if it.Missed {
					missed = append(missed, it.CallID)
				}
			}
			if !slices.Equal(ids, tc.ids) || !slices.Equal(missed, tc.missed) {
				t.Fatalf("calls %v missed %v, want %v missed %v", ids, missed, tc.ids, tc.missed)
			}
		})
	}

	// The rows themselves.
	_, b := e.do(http.MethodGet, "/v1/history", tok, "")
	byID := map[string]api.HistoryItem{}
	for _, it := range decodeJSONBody[[]api.HistoryItem](t, b) {
		byID[it.CallID] = it
	}
	for id, want := range map[string]struct{ customer, result, group, agent string }{
		"r1": {"138r1", "answered", "sales", "1001"},
		"r2": {"13900000002", "answered", "", "1001"}, // outbound: the callee is the customer
		"q3": {"138q3", "no_answer", "sales", "1001"}, // from the offer: 1002's record is not 1001's
		"q4": {"138q4", "cancelled", "sales", "1001"}, // offer only, the customer hung up
		"r5": {"138r5", "cancelled", "sales", "1001"}, // the record, marked missed
		"q6": {"138q6", "answered", "sales", "1001"},  // answered at the second offer
	} {
		it := byID[id]
		if it.Customer != want.customer || it.Result != want.result || it.Group != want.group || it.Agent != want.agent {
			t.Errorf("%s: %+v, want %+v", id, it, want)
		}
	}
	if q4 := byID["q4"]; q4.Number != "4008001234" || q4.Type != "inbound" || !q4.StartedAt.Equal(t0.Add(4*time.Hour)) {
		t.Errorf("q4 row %+v", q4)
	}
}

func TestHistoryBadQuery(t *testing.T) {
	e := newEnv(t)
	tok := e.login("1001", "pc").Token
	for _, tc := range []struct{ query, message string }{
		{"?missed=maybe", `missed: want true or false, got "maybe"`},
		{"?limit=0", "limit: want an integer from 1 to 1000"},
		{"?limit=abc", "limit"},
		{"?since=yesterday", "since: want an RFC 3339 time"},
		{"?since=2025-03-02T00:00:00Z&until=2025-03-01T00:00:00Z", "until"},
	} {
		status, b := e.do(http.MethodGet, "/v1/history"+tc.query, tok, "")
		if er := decodeError(t, b); status != http.StatusBadRequest || er.Code != api.CodeBadRequest || !strings.Contains(er.Message, tc.message) {
			t.Errorf("%s: %d %+v, want 400 with %q", tc.query, status, er, tc.message)
		}
	}
	if status, _ := e.do(http.MethodGet, "/v1/history", "", ""); status != http.StatusUnauthorized {
		t.Errorf("no token: %d", status)
	}
}

func TestOfferResult(t *testing.T) {
	for reason, want := range map[string]callcenter.Result{
		"no_answer":      callcenter.ResultNoAnswer,
		"rejected":       callcenter.ResultRejected,
		"caller_hung_up": callcenter.ResultCancelled,
		"busy":           callcenter.ResultBusy,
		"":               callcenter.ResultNoAnswer,
		"answered":       callcenter.ResultNoAnswer, // an unanswered offer never reads as answered
		"gremlins":       callcenter.ResultNoAnswer,
	} {
		if got := offerResult(reason); got != want {
			t.Errorf("offerResult(%q) = %s, want %s", reason, got, want)
		}
	}
}

// describingCenter is a fakeCenter that knows who numbers are: a customer
// library of its own per agent, and regions.
type describingCenter struct {
	*fakeCenter
	mu     sync.Mutex
	names  map[string]string // agent|number -> name
	asked  map[string]int    // number -> lookups
	region map[string]string
}

func (d *describingCenter) DescribeNumber(_ context.Context, agent, number string) (string, string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.asked[number]++
	return d.names[agent+"|"+number], d.region[number]
}

// TestHistoryNamesAndRegions: rows carry the customer's name as the agent
// knows it and the number's region, from the center; each number is looked
// up once per request; a number nobody knows stays without either.
func TestHistoryNamesAndRegions(t *testing.T) {
	dc := &describingCenter{fakeCenter: newFakeCenter(),
		names:  map[string]string{"1001|138q4": "王小明", "1002|138q6": "not 1001's customer"},
		region: map[string]string{"138q4": "上海市", "138q6": "北京市", "13900000002": "广州市"},
		asked:  map[string]int{},
	}
	e := newEnv(t, WithCenter(dc))
	dc.fakeCenter.srv = e.srv
	historyFixture(t, e.st)
	// A second offer of q4's number: two rows, one lookup.
	e.st.addOffers(t, callcenter.Offer{CallID: "q8", Agent: "1001", Group: "sales", Customer: "138q4", CenterNumber: "4008001234",
		OfferedAt: t0.Add(7 * time.Hour), EndedAt: t0.Add(7*time.Hour + 10*time.Second), Reason: "no_answer"})
	tok := e.login("1001", "pc").Token
	status, b := e.do(http.MethodGet, "/v1/history", tok, "")
	if status != http.StatusOK {
		t.Fatalf("%d %s", status, b)
	}
	got := map[string]api.HistoryItem{}
	for _, it := range decodeJSONBody[[]api.HistoryItem](t, b) {
		got[it.CallID] = it
	}
	for _, tc := range []struct{ id, name, region string }{
		{"q4", "王小明", "上海市"},
		{"q8", "王小明", "上海市"},
		{"q6", "", "北京市"}, // another agent's customer: no name for 1001
		{"r2", "", "广州市"}, // outbound: the callee's number
		{"r1", "", ""},
	} {
		if it := got[tc.id]; it.Name != tc.name || it.Region != tc.region {
			t.Errorf("%s: name %q region %q, want %q %q", tc.id, it.Name, it.Region, tc.name, tc.region)
		}
	}
	dc.mu.Lock()
	defer dc.mu.Unlock()
	for n, k := range dc.asked {
		if k != 1 {
			t.Errorf("%s looked up %d times", n, k)
		}
	}
}
