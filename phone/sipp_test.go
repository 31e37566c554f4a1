package phone

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// freeUDPPort asks the kernel for a free port for sipp, which cannot
// report the port it bound itself.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// runSipp starts sipp with a built-in scenario in a temp dir; the returned
// wait gives its exit error and output.
func runSipp(t *testing.T, args ...string) func() (error, string) {
	t.Helper()
	bin, err := exec.LookPath("sipp")
	if err != nil {
		t.Skip("sipp not installed (Debian package sip-tester); skipping interop test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	cmd := exec.CommandContext(ctx, bin, append([]string{"-nostdin", "-timeout", "15s", "-timeout_error", "-trace_err"}, args...)...)
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start sipp: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return func() (error, string) {
		select {
		case err := <-done:
			done <- err
			return err, out.String()
		case <-time.After(18 * time.Second):
			return errors.New("sipp did not finish"), out.String()
		}
	}
}

func TestInteropDialSippUAS(t *testing.T) {
	port := freeUDPPort(t)
	wait := runSipp(t, "-sn", "uas", "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-m", "1")
	time.Sleep(300 * time.Millisecond) // sipp binds after start-up
	p := newDirectPhone(t, "1001")
	c, err := p.Dial(ctxT(t), "sip:service@127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	waitState(t, c, Active)
	if c.Codec() != "PCMU" {
		t.Errorf("codec with sipp %q, want PCMU (its only offer)", c.Codec())
	}
	time.Sleep(200 * time.Millisecond)
	if err := c.Hangup(ctxT(t)); err != nil {
		t.Fatalf("Hangup: %v", err)
	}
	if err, out := wait(); err != nil {
		t.Fatalf("sipp uas: %v\n%s", err, out)
	}
}

func TestInteropSippUACCallsPhone(t *testing.T) {
	p := newDirectPhone(t, "1002")
	p.SetAutoAnswer(true)
	wait := runSipp(t, "-sn", "uac", "-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-s", "1002", "-m", "1", "-d", "500", p.Addr())
	c := nextCall(t, p, Active)
	if c.Direction() != Inbound || c.Codec() != "PCMU" {
		t.Errorf("inbound from sipp: dir %s codec %q", c.Direction(), c.Codec())
	}
	if err, out := wait(); err != nil {
		t.Fatalf("sipp uac: %v\n%s", err, out)
	}
	waitDone(t, c)
	if !errors.Is(c.EndReason(), ErrRemoteHangup) {
		t.Errorf("EndReason %v, want remote hangup (sipp's BYE)", c.EndReason())
	}
}
