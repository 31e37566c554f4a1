package server

import (
	"testing"

	"github.com/agentphone/agentphone/callcenter"
)

// TestForwarderBeforeSet: reports before Set are dropped, not a panic.
func TestForwarderBeforeSet(t *testing.T) {
	var f Forwarder
	f.Status("1001", callcenter.AgentStatus{})
	f.Figures("1001", callcenter.AgentFigures{})
	f.Groups("1001", nil)
	f.Offer("1001", callcenter.ScreenPop{})
	f.Missed("1001", callcenter.Offer{})
	f.Notice("1001", callcenter.Notice{})
	f.PublishCall(callcenter.CallEvent{})
	f.SetRegistered("1001", true, "")
}
