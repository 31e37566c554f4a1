package pstnsim

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"
)

// Plan is a batch of customer calls for Run.
type Plan struct {
	// To is the center's number every call dials.
	To string
	// From are the caller numbers, used in turn.
	From []string
	// Count is how many calls to place; 0 keeps calling until ctx ends.
	Count int
	// Rate is calls started per second; 0 starts them as fast as
	// Concurrency allows.
	Rate float64
	// Delay is a wait before the first call.
	Delay time.Duration
	// Hold is how long each answered customer talks before hanging up;
	// 0 waits for the center to hang up.
	Hold time.Duration
	// Concurrency caps the calls in progress; 0 means no cap. A call that
	// is due while the cap is reached waits for a free slot.
	Concurrency int
	// DTMF, when set, is keyed (RFC 4733) DTMFDelay after the center
	// answers, the way a customer picks from an IVR menu.
	DTMF      string
	DTMFDelay time.Duration
}

// Result is what happened to one call of a Run.
type Result struct {
	Number   int
	From, To string
	CallID   string
	// Status is the final SIP status: 200 when answered, the refusal's
	// code otherwise, 0 when no final response came (timeout, network,
	// cancelled).
	Status   int
	Answered bool
	Err      error
	Start    time.Time
	// Heard summarises what the customer received (answered calls).
	Heard Summary
	// Digits are the DTMF digits (RFC 4733) the customer received.
	Digits string
}

// Report sums up a Run.
type Report struct {
	Placed   int
	Answered int
	// Failed counts unanswered calls by final SIP status (0: no status).
	Failed map[int]int
	// Calls are the per-call results in the order the calls were placed.
	Calls []Result
}

func (r Report) String() string {
	codes := make([]int, 0, len(r.Failed))
	for c := range r.Failed {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	s := fmt.Sprintf("placed %d, answered %d", r.Placed, r.Answered)
	for _, c := range codes {
		s += fmt.Sprintf(", %d×%d", r.Failed[c], c)
	}
	return s
}

// Run places the plan's calls and waits for all of them to end. When ctx
// ends it stops placing calls, hangs up those in progress and returns the
// report so far; the error is ctx's only if a fixed Count was cut short.
func (s *Sim) Run(ctx context.Context, p Plan) (Report, error) {
	rep := Report{Failed: map[int]int{}}
	switch {
	case p.To == "":
		return rep, fmt.Errorf("%w: no destination number", ErrBadPlan)
	case len(p.From) == 0:
		return rep, fmt.Errorf("%w: no caller numbers", ErrBadPlan)
	case p.Count < 0 || p.Rate < 0 || p.Concurrency < 0 || p.Hold < 0 || p.Delay < 0:
		return rep, fmt.Errorf("%w: negative count, rate, concurrency, hold or delay", ErrBadPlan)
	case p.Count == 0 && p.Rate == 0 && p.Concurrency == 0:
		return rep, fmt.Errorf("%w: an endless plan needs a rate or a concurrency cap", ErrBadPlan)
	}
	if _, err := s.state(); err != nil {
		return rep, err
	}
	var interval time.Duration
	if p.Rate > 0 {
		interval = time.Duration(float64(time.Second) / p.Rate)
	}
	var slots chan struct{}
	if p.Concurrency > 0 {
		slots = make(chan struct{}, p.Concurrency)
	}

	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	results := []*Result{}
	done := ctx.Done()
	next := s.clock.Now().Add(p.Delay)
	if !s.sleep(done, p.Delay) {
		if p.Count > 0 {
			return rep, ctx.Err()
		}
		return rep, nil
	}
	cut := false
loop:
	for i := 0; p.Count == 0 || i < p.Count; i++ {
		if i > 0 && interval > 0 {
			next = next.Add(interval)
			if !s.sleep(done, next.Sub(s.clock.Now())) {
				cut = true
				break loop
			}
		}
		if slots != nil {
			select {
			case slots <- struct{}{}:
			case <-done:
				cut = true
				break loop
			}
		}
		if ctx.Err() != nil {
			cut = true
			break
		}
		res := &Result{From: p.From[i%len(p.From)], To: p.To, Start: s.clock.Now()}
		mu.Lock()
		results = append(results, res)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			if slots != nil {
				defer func() { <-slots }()
			}
			s.runOne(ctx, res, p)
		}()
	}
	wg.Wait()

	for _, r := range results {
		rep.Placed++
		if r.Answered {
			rep.Answered++
		} else {
			rep.Failed[r.Status]++
		}
		rep.Calls = append(rep.Calls, *r)
	}
	s.log.Info("run finished", "report", rep.String())
	if cut && p.Count > 0 {
		return rep, ctx.Err()
	}
	return rep, nil
}

func (s *Sim) runOne(ctx context.Context, res *Result, p Plan) {
	c, err := s.Call(ctx, res.From, res.To, CallOptions{Hold: p.Hold})
	if err != nil {
		res.Err = err
		var se *StatusError
		if errors.As(err, &se) {
			res.Status = se.Code
		}
		return
	}
	res.Number, res.CallID = c.Number, c.CallID
	if p.DTMF != "" {
		select {
		case <-s.clock.After(p.DTMFDelay):
			if err := c.SendDTMF(ctx, p.DTMF); err != nil {
				c.log.Warn("send DTMF", "digits", p.DTMF, "err", err)
			}
		case <-c.Done():
		}
	}
	<-c.Done()
	res.Answered, res.Status, res.Heard, res.Digits = true, c.Status(), c.HeardSummary(), c.Digits()
}
