package sipedge

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/emiago/diago"
)

// BenchmarkCallSetup measures INVITE → 200 OK through the edge: a diago
// agent calls another that answers at once; the edge authenticates, routes,
// places the callee leg, answers the caller and builds the media room.
// p50_ms/p99_ms are per-call setup latencies; each call is hung up and its
// record written before the next.
func BenchmarkCallSetup(b *testing.B) {
	c := newCenter(b, answerer)
	ctx := context.Background()
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		start := time.Now()
		d, err := c.a.call(ctx, c.edge, "1002", diago.InviteOptions{})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
		<-c.offers
		b.StopTimer()
		d.Hangup(ctx)
		d.Close()
		c.rec.waitEnded(b)
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50_ms")
	b.ReportMetric(pct(0.99), "p99_ms")
}
