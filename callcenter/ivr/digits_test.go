package ivr

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestDigits(t *testing.T) {
	d := NewDigits()
	for _, r := range "1x*#A\x00é9D" {
		d.Push(r)
	}
	var got string
	for {
		r, err := d.Next(context.Background(), time.Millisecond)
		if errors.Is(err, ErrTimeout) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got += string(r)
	}
	if got != "1*#A9D" {
		t.Errorf("got %q, want the DTMF digits only", got)
	}
}

func TestDigitsBounded(t *testing.T) {
	d := NewDigits()
	kept := 0
	for range 1000 {
		if d.Push('5') {
			kept++
		}
	}
	if kept != DigitBuffer {
		t.Errorf("kept %d digits of a flood, want %d", kept, DigitBuffer)
	}
	d.Clear()
	if _, err := d.Next(context.Background(), time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("after Clear: err = %v, want ErrTimeout", err)
	}
}

func TestDigitsWait(t *testing.T) {
	d := NewDigits()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Next(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("ended ctx: err = %v", err)
	}
	d.Push('7')
	if r, err := d.Next(ctx, 0); err != nil || r != '7' {
		t.Errorf("a queued digit must win over an ended ctx: %q %v", r, err)
	}
	start := time.Now()
	if _, err := d.Next(context.Background(), 30*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Errorf("err = %v, want ErrTimeout", err)
	}
	if e := time.Since(start); e < 30*time.Millisecond {
		t.Errorf("timed out after %v, before the 30 ms asked", e)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		d.Push('3')
	}()
	if r, err := d.Next(context.Background(), 0); err != nil || r != '3' {
		t.Errorf("waiting without timeout: %q %v", r, err)
	}
}
