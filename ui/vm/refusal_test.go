package vm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/client"
)

const callID = "0b5e4c1a-9f3e-4d2b-8c1a-2f4e6a8b0c1d"

// TestFailureText: every refusal code of the in-call and CRM endpoints
// reads as a sentence for the agent, with the server's wording kept only
// where it is a plain sentence and never an id.
func TestFailureText(t *testing.T) {
	agent := subject{api.TargetAgent, "1002 Han Meimei"}
	group := subject{api.TargetGroup, "Sales"}
	number := subject{api.TargetNumber, "02161234567"}
	refused := func(code, msg string) error {
		return fmt.Errorf("hold: %w", &RefusedError{Code: code, Reason: msg})
	}
	tests := []struct {
		name     string
		what     string
		who      subject
		badState string
		err      error
		want     string
	}{
		{"busy agent named", "Transfer", agent, "", refused(api.CodeAgentBusy, "agent 1002 is busy"), "1002 Han Meimei is busy"},
		{"busy agent, server's sentence", "Transfer", subject{}, "", refused(api.CodeAgentBusy, "agent 1002 is busy"), "Agent 1002 is busy"},
		{"busy agent, server's words with an id", "Transfer", subject{}, "", refused(api.CodeAgentBusy, "agent busy on "+callID), "The agent is busy"},
		{"busy group", "Transfer", group, "", refused(api.CodeAgentBusy, "nobody in sales is free"), "Nobody in Sales is free"},
		{"offline agent", "Consult", agent, "", refused(api.CodeAgentOffline, "agent 1002 is not online"), "1002 Han Meimei is not online"},
		{"offline, nobody named", "Consult", subject{}, "", refused(api.CodeAgentOffline, "x"), "The agent is not online"},
		{"no answer", "Consult", agent, "", refused(api.CodeNoAnswer, ""), "1002 Han Meimei did not answer; the customer is back with you"},
		{"no answer, group", "Transfer", group, "", refused(api.CodeNoAnswer, ""), "Nobody in Sales answered; the customer is back with you"},
		{"no answer, nobody named", "Transfer", subject{}, "", refused(api.CodeNoAnswer, ""), "No answer; the customer is back with you"},
		{"rejected", "Consult", agent, "", refused(api.CodeRejected, ""), "1002 Han Meimei declined; the customer is back with you"},
		{"rejected, nobody named", "Consult", subject{}, "", refused(api.CodeRejected, ""), "The call was declined; the customer is back with you"},
		{"number busy", "Consult", number, "", refused(api.CodeNumberBusy, ""), "02161234567 is busy; the customer is back with you"},
		{"number busy, none", "Consult", subject{}, "", refused(api.CodeNumberBusy, ""), "The number is busy; the customer is back with you"},
		{"invalid number", "Consult", number, "", refused(api.CodeNumberInvalid, ""), "02161234567 is not a valid number"},
		{"invalid number, none", "Consult", subject{}, "", refused(api.CodeNumberInvalid, ""), "That number does not exist"},
		{"nobody online", "Transfer", group, "", refused(api.CodeNoAgentsOnline, "nobody in sales is online"), "Nobody in Sales is online"},
		{"nobody online, none", "Transfer", subject{}, "", refused(api.CodeNoAgentsOnline, ""), "Nobody in that group is online"},
		{"not in call (the reported bug)", "Save note", subject{}, "", refused(api.CodeNotInCall, "you are not on call "+callID), "You are no longer in this call"},
		{"bad state", "Hold", subject{}, "", refused(api.CodeBadState, "only a two-party call can be held (now consulting)"), "Hold is not possible at this point of the call"},
		{"bad state, the command's meaning", "Delete", subject{}, "This callback is already done", refused(api.CodeBadState, "this callback is done (call "+callID+")"), "This callback is already done"},
		{"note box open", "Open notes", subject{}, "", refused(api.CodeNoteBoxOpen, "close the previous call's note first (call "+callID+")"), "Close the previous call's note first"},
		{"note read only", "Save note", subject{}, "", refused(api.CodeNoteReadOnly, "this note is 1003's: only its author can edit it"), "Only its author can edit this note"},
		{"not answered yet", "Save note", subject{}, "", refused(api.CodeNotAnsweredYet, ""), "You can add notes once you have answered the call"},
		{"callback invalid, server's sentence", "New callback", subject{}, "", refused(api.CodeCallbackInvalid, "the callback time must be in the future"), "The callback time must be in the future"},
		{"callback invalid, quoted input", "New callback", subject{}, "", refused(api.CodeCallbackInvalid, `"abc" is not a number to call`), "A callback needs a number to call and a time in the future"},
		{"forbidden, server's sentence", "Save customer", subject{}, "", refused(api.CodeForbidden, "this customer belongs to agent 1002: only its owner or a supervisor can edit it"), "This customer belongs to agent 1002: only its owner or a supervisor can edit it"},
		{"forbidden, bare", "Save customer", subject{}, "", refused(api.CodeForbidden, ""), "Only the customer's owner or a supervisor can do this"},
		{"exists", "Save customer", subject{}, "", refused(api.CodeExists, "already in your customers: number 13800138000: exists"), "This number is already in the customer library"},
		{"not found code", "Reschedule", subject{}, "", refused(api.CodeNotFound, "callback 7: not found"), "Reschedule: it no longer exists (deleted meanwhile)"},
		{"bad request, internal", "Save note", subject{}, "", refused(api.CodeBadRequest, `id: want a positive integer, got "x"`), "Save note was refused"},
		{"unknown code, sentence", "Hold", subject{}, "", refused("new_rule", "holding is off today"), "Holding is off today"},
		{"unknown code, id", "Hold", subject{}, "", refused("new_rule", "call "+callID+" is odd"), "Hold was refused"},
		{"gone", "Delete", subject{}, "", fmt.Errorf("delete callback: %w", ErrGone), "Delete: it no longer exists (deleted meanwhile)"},
		{"unsupported", "Open notes", subject{}, "", fmt.Errorf("open notes: %w", ErrUnsupported), "Open notes is not available on this server"},
		{"unreachable", "Hold", subject{}, "", fmt.Errorf("hold: %w", ErrUnreachable), "The server cannot be reached; try again"},
		{"timeout", "Hold", subject{}, "", fmt.Errorf("hold: %w", context.DeadlineExceeded), "The server did not answer in time; try again"},
		{"anything else: no error chain", "Hold", subject{}, "", fmt.Errorf("POST /v1/calls/%s/hold: 500", callID), "Hold failed; try again"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := failureAbout(tc.what, tc.who, tc.badState, tc.err)
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
			if strings.Contains(got, callID) {
				t.Errorf("%q shows the call id", got)
			}
		})
	}
}

// TestEveryCodeTranslated: no refusal code of the API falls through to the
// server's wording or the generic line.
func TestEveryCodeTranslated(t *testing.T) {
	for _, code := range []string{api.CodeAgentBusy, api.CodeAgentOffline, api.CodeNoAnswer, api.CodeRejected,
		api.CodeNumberBusy, api.CodeNumberInvalid, api.CodeNoAgentsOnline, api.CodeNotInCall, api.CodeBadState,
		api.CodeNoteBoxOpen, api.CodeNoteReadOnly, api.CodeNotAnsweredYet, api.CodeCallbackInvalid,
		api.CodeForbidden, api.CodeExists, api.CodeNotFound} {
		if got := refusalText(code, "", "Hold", subject{}, ""); got == "" || got == "Hold was refused" {
			t.Errorf("%s without a message: %q", code, got)
		}
		// Only these keep a plain server sentence: their reasons vary
		// more than one translated line can say.
		keeps := code == api.CodeAgentBusy || code == api.CodeCallbackInvalid || code == api.CodeForbidden
		const marker = "server words"
		got := refusalText(code, marker, "Hold", subject{}, "")
		if strings.Contains(strings.ToLower(got), marker) != keeps {
			t.Errorf("%s: %q", code, got)
		}
	}
}

func TestNoticeLine(t *testing.T) {
	agent := subject{api.TargetAgent, "1002 Han Meimei"}
	for _, tc := range []struct {
		n    api.Notice
		who  subject
		want string
	}{
		{api.Notice{Code: api.CodeNoAnswer, Message: "1002 did not answer; the customer is back with you."}, agent, "1002 Han Meimei did not answer; the customer is back with you"},
		{api.Notice{Code: api.CodeNumberInvalid, Message: "x"}, subject{api.TargetNumber, "021"}, "021 is not a valid number"},
		{api.Notice{Code: "consult_ended", Message: "The consulted party hung up; the customer is back with you."}, agent, "The consulted party hung up; the customer is back with you"},
		{api.Notice{Message: "the call moved to " + callID}, agent, ""},
		{api.Notice{Message: "the line is noisy"}, agent, "The line is noisy"},
	} {
		if got := noticeLine(tc.n, tc.who); got != tc.want {
			t.Errorf("%+v: got %q want %q", tc.n, got, tc.want)
		}
	}
}

// TestItemErr: a 404 on a route naming one item is "deleted meanwhile";
// elsewhere a 404 is a server without the feature.
func TestItemErr(t *testing.T) {
	nf := &client.Error{Status: http.StatusNotFound, Code: api.CodeNotFound, Message: "callback 7: not found"}
	if err := itemErr("delete callback", nf); !errors.Is(err, ErrGone) {
		t.Errorf("item 404: %v", err)
	}
	if err := centerErr("notes", nf); !errors.Is(err, ErrUnsupported) || errors.Is(err, ErrGone) {
		t.Errorf("route 404: %v", err)
	}
	busy := &client.Error{Status: http.StatusConflict, Code: api.CodeBadState, Message: "done"}
	var re *RefusedError
	if err := itemErr("delete callback", busy); !errors.As(err, &re) || re.Code != api.CodeBadState {
		t.Errorf("item 409: %v", err)
	}
}
