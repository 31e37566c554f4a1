package server

import (
	"fmt"
	"testing"

	"github.com/agentphone/agentphone/callcenter"
)

// BenchmarkPublishCall measures what sipedge pays per call change: update
// the live set, marshal once, queue to each of the agent's streams.
func BenchmarkPublishCall(b *testing.B) {
	for _, streams := range []int{0, 1, 8} {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			srv := New(nil)
			id := identity{agent: callcenter.Agent{WorkNumber: "1001"}}
			for range streams {
				sub, _, _ := srv.hub.subscribe(id, false, nil, 1024, t0)
				go func() {
					defer srv.hub.unsubscribe(sub)
					for {
						select {
						case <-sub.ch:
						case <-sub.quit:
							return
						}
					}
				}()
			}
			ids := make([]string, 64)
			for i := range ids {
				ids[i] = fmt.Sprint("call-", i)
			}
			states := []callcenter.CallState{callcenter.CallRinging, callcenter.CallTalking, callcenter.CallEnded}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ev := callEvent(ids[i/3%64], states[i%3], t0, "1001")
				srv.PublishCall(ev)
				i++
			}
			b.StopTimer()
			srv.Close()
		})
	}
}
