package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/agentphone/agentphone/callcenter"
)

// IVR menus come from the admin command line and the API: whatever the
// choice key, action kind and target, PutIVRMenu either refuses with
// ErrInvalid or stores a menu that reads back identical.
func FuzzIVRMenu(f *testing.F) {
	f.Add("main", "welcome", '1', 0, "sales", 3, 0, "sales")
	f.Add("sub", "p", '#', 1, "main", 1, 3, "")
	f.Add("x", "p", 'A', 2, "", 0, 2, "")
	f.Add("x", "", '*', 4, "10 01", -1, 9, "t")
	s, err := Open(context.Background(), memoryPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	f.Fuzz(func(t *testing.T, name, prompt string, key rune, kind int, target string, tries, failKind int, failTarget string) {
		ctx := context.Background()
		m := callcenter.IVRMenu{Name: name, Prompt: prompt, Timeout: time.Second, MaxTries: tries,
			Choices: map[rune]callcenter.IVRAction{key: {Kind: callcenter.IVRActionKind(kind), Target: target}},
			OnFail:  callcenter.IVRAction{Kind: callcenter.IVRActionKind(failKind), Target: failTarget}}
		put, err := s.PutIVRMenu(ctx, m)
		if err != nil {
			if !errors.Is(err, callcenter.ErrInvalid) {
				t.Fatalf("PutIVRMenu(%+v) err = %v, want nil or ErrInvalid", m, err)
			}
			return
		}
		if !ValidDTMF(key) || kind < 0 || kind > int(callcenter.IVRAgent) || tries < 1 {
			t.Fatalf("PutIVRMenu accepted %+v", m)
		}
		got, err := s.IVRMenuByName(ctx, name)
		if err != nil || !reflect.DeepEqual(got, put) {
			t.Fatalf("read back %+v, %v; want %+v", got, err, put)
		}
	})
}

// The screen pop looks up every offered caller: CallsWith must stay fast
// with a large history.
func BenchmarkCallsWith(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	const records, customers = 20000, 2000
	for i := range records {
		r := callcenter.CallRecord{CallID: fmt.Sprintf("c%d", i), Type: callcenter.CallInbound,
			Caller: fmt.Sprintf("138%08d", i%customers), Callee: "4008001234", Number: "4008001234",
			StartedAt: t0.Add(time.Duration(i) * time.Minute), EndedAt: t0.Add(time.Duration(i)*time.Minute + time.Second),
			Result: callcenter.ResultCancelled}
		if err := s.EndCallRecord(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		n, _, err := s.CallsWith(ctx, fmt.Sprintf("138%08d", i%customers))
		if err != nil || n != records/customers {
			b.Fatalf("CallsWith = %d, %v", n, err)
		}
		i++
	}
}

// Every status change of every agent is one AppendStatus.
func BenchmarkAppendStatus(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		st := callcenter.AgentStatus{Agent: fmt.Sprintf("%d", 1000+i%100), Presence: callcenter.PresenceOnline,
			Phone: callcenter.PhoneIdle, Since: t0.Add(time.Duration(i) * time.Second)}
		if err := s.AppendStatus(ctx, st); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// Today's figures read one agent's day from the log.
func BenchmarkStatusLogDay(b *testing.B) {
	ctx := context.Background()
	s, _ := openTemp(b)
	// 100 agents, a change every 5 minutes for 7 days each.
	const agents, perAgent = 100, 7 * 24 * 12
	for i := range agents * perAgent {
		st := callcenter.AgentStatus{Agent: fmt.Sprintf("%d", 1000+i%agents), Presence: callcenter.PresenceOnline,
			Phone: callcenter.PhoneStatus(i % 2), Since: t0.Add(time.Duration(i/agents) * 5 * time.Minute)}
		if err := s.AppendStatus(ctx, st); err != nil {
			b.Fatal(err)
		}
	}
	// A change falls on this instant, so none from before is in effect.
	day := t0.Add(3 * 24 * time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		log, err := s.StatusLog(ctx, "1042", day, day.Add(24*time.Hour))
		if err != nil || len(log) != 24*12 {
			b.Fatalf("StatusLog = %d, %v", len(log), err)
		}
	}
}
