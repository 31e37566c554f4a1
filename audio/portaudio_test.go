package audio

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startPulse runs a private PulseAudio with a 48 kHz mono null sink "spk"
// whose monitor is the default source: a speaker whose sound comes back on
// the default microphone, in real time. It points this process's PortAudio
// (through ALSA's pulse plugin) at it.
func startPulse(t *testing.T) {
	t.Helper()
	bin, err := exec.LookPath("pulseaudio")
	if err != nil {
		t.Skip("pulseaudio binary not installed (apt-get install pulseaudio pulseaudio-utils libasound2-plugins): cannot test PortAudio without a sound server")
	}
	dir := t.TempDir()
	home, run := filepath.Join(dir, "home"), filepath.Join(dir, "run")
	for _, d := range []string{home, run} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	socket := filepath.Join(run, "pulse", "native")
	env := append(os.Environ(), "HOME="+home, "XDG_RUNTIME_DIR="+run,
		"PULSE_RUNTIME_PATH="+filepath.Join(run, "pulse"), "PULSE_SERVER=unix:"+socket)
	cmd := exec.Command(bin, "-n", "--daemonize=no", "--exit-idle-time=-1", "--log-target=stderr",
		"-L", "module-native-protocol-unix",
		"-L", "module-null-sink sink_name=spk rate=48000 channels=1")
	cmd.Env = env
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pulseaudio: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("pulseaudio exited: %s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pulseaudio socket did not appear: %s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pactl, err := exec.LookPath("pactl"); err == nil {
		c := exec.Command(pactl, "set-default-source", "spk.monitor")
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("pactl: %v: %s", err, out)
		}
	}
	// PortAudio's ALSA pulse plugin reads these when it connects.
	t.Setenv("HOME", home)
	t.Setenv("XDG_RUNTIME_DIR", run)
	t.Setenv("PULSE_RUNTIME_PATH", filepath.Join(run, "pulse"))
	t.Setenv("PULSE_SERVER", "unix:"+socket)
}

// checkptrOffForPortAudio is set when the test run says it built the
// PortAudio binding without checkptr (see skipPortAudioStreamsUnderRace).
var checkptrOffForPortAudio = os.Getenv("AUDIO_PORTAUDIO_CHECKPTR") == "off"

func TestPortAudioLoopback(t *testing.T) {
	skipPortAudioStreamsUnderRace(t)
	startPulse(t)
	devs, err := ListDevices()
	if err != nil {
		t.Fatal(err)
	}
	var haveIn, haveOut bool
	for _, d := range devs {
		t.Logf("device %d %q (%s) in %d out %d default in %v out %v", d.ID, d.Name, d.HostAPI, d.InputChannels, d.OutputChannels, d.DefaultInput, d.DefaultOutput)
		haveIn = haveIn || (d.DefaultInput && d.InputChannels > 0)
		haveOut = haveOut || (d.DefaultOutput && d.OutputChannels > 0)
	}
	if !haveIn || !haveOut {
		t.Fatalf("no default input/output among %d devices", len(devs))
	}

	dev, err := OpenPortAudio("", "")
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	in := make([]int16, DeviceFrameSamples)
	out := make([]int16, DeviceFrameSamples)
	// A fresh null sink renders its first block at its default latency
	// (about 2 s) before following ours: wait for the first frame.
	if err := dev.ReadFrame(in); err != nil {
		t.Fatal(err)
	}
	tone := NewTone(1000, 0.3, DeviceRate)
	var heard []int16
	start := time.Now()
	// Drive the loop from the device clock like the phone does: each
	// captured frame, one frame out.
	for range 50 { // 1 s
		if err := dev.ReadFrame(in); err != nil {
			t.Fatal(err)
		}
		heard = append(heard, in...)
		tone.Read(out)
		if err := dev.WriteFrame(out); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 900*time.Millisecond || el > 2*time.Second {
		t.Fatalf("50 frames took %v: capture is not paced in real time", el)
	}
	last := heard[len(heard)-DeviceRate/2:]
	if !DetectTone(last, DeviceRate, 1000) {
		t.Fatalf("1 kHz not heard back through the null sink (ratio %.2f, %.1f dBFS)",
			ToneDetector{Rate: DeviceRate, Freq: 1000}.Ratio(last), DBFS(last))
	}
	t.Logf("stats %+v", dev.Stats())

	// With nothing written the headset plays silence (underflow); a
	// Player on the same output mixes in, and stopping it removes it.
	p, err := NewPlayer("", NewTone(1500, 0.3, DeviceRate))
	if err != nil {
		t.Fatal(err)
	}
	listen := func(d time.Duration) []int16 {
		var s []int16
		for range int(d / FrameDuration) {
			if err := dev.ReadFrame(in); err != nil {
				t.Fatal(err)
			}
			s = append(s, in...)
		}
		return s
	}
	if s := listen(time.Second)[DeviceRate/2:]; !DetectTone(s, DeviceRate, 1500) || DetectTone(s, DeviceRate, 1000) {
		t.Fatalf("player tone not heard (%.1f dBFS)", DBFS(s))
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if s := listen(700 * time.Millisecond)[DeviceRate/4:]; DetectTone(s, DeviceRate, 1500) {
		t.Fatal("player still heard after Stop")
	}
	if st := dev.Stats(); st.PlaybackUnderflow == 0 {
		t.Fatalf("no underflow counted while nothing was written: %+v", st)
	}
	if err := dev.Close(); err != nil {
		t.Fatal(err)
	}
	if err := dev.ReadFrame(in); !errors.Is(err, ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if err := dev.WriteFrame(in); !errors.Is(err, ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
}

func TestPortAudioMissingDevice(t *testing.T) {
	startPulse(t) // so that the defaults exist and only the named device is missing
	const name = "no such headset 42"
	for _, open := range []func() error{
		func() error { _, err := OpenPortAudio(name, ""); return err },
		func() error { _, err := OpenPortAudio("", name); return err },
		func() error { _, err := NewPlayer(name, Silence{}); return err },
	} {
		err := open()
		if !errors.Is(err, ErrNoDevice) || !strings.Contains(err.Error(), name) {
			t.Fatalf("err = %v, want ErrNoDevice naming %q", err, name)
		}
	}
	if paLibrary.refs != 0 {
		t.Fatalf("failed opens leaked %d PortAudio references", paLibrary.refs)
	}
}
