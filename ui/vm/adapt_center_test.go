package vm

import (
	"errors"
	"fmt"
	"testing"

	"github.com/agentphone/agentphone/callcenter/client"
)

func TestCenterErr(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		is     error
		reason string
	}{
		{"refused", &client.Error{Status: 409, Code: "refused", Message: "cannot switch answering off while talking"}, ErrRefused, "cannot switch answering off while talking"},
		{"bad custom status", &client.Error{Status: 400, Code: "bad_request", Message: "unknown status lunch"}, ErrRefused, "unknown status lunch"},
		{"no center", &client.Error{Status: 404, Code: "not_found", Message: "the inbound call center is not enabled on this server"}, ErrUnsupported, ""},
		{"old server", &client.Error{Status: 404, Code: "http_404", Message: "Not Found"}, ErrUnsupported, ""},
		{"unreachable", fmt.Errorf("%w: dial", client.ErrUnreachable), ErrUnreachable, ""},
		{"internal", &client.Error{Status: 500, Code: "internal", Message: "boom"}, nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := centerErr("set status", tc.err)
			if !errors.Is(got, tc.err) && tc.is != ErrRefused {
				t.Errorf("%v does not wrap the client's error", got)
			}
			if tc.is != nil && !errors.Is(got, tc.is) {
				t.Errorf("%v is not %v", got, tc.is)
			}
			var re *RefusedError
			if errors.As(got, &re) != (tc.reason != "") || (re != nil && re.Reason != tc.reason) {
				t.Errorf("refusal %+v, want reason %q", re, tc.reason)
			}
		})
	}
	if centerErr("x", nil) != nil {
		t.Error("nil error wrapped")
	}
}
