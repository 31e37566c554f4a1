package sipedge

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// Frequencies of the two tones: the caller's toward baresip, and baresip's
// microphone (PulseAudio's sine source) toward the caller.
const (
	callerToneHz  = 1000
	baresipToneHz = 1500
)

// TestBaresipInterop: baresip 1.0.0, a real softphone, registers as agent
// 1002 with digest auth and auto-answers a call from agent 1001 (a diago UA
// sending PCMU).
// The caller's 1 kHz tone must appear in what baresip decoded (its sndfile
// module's WAV), and baresip's 1.5 kHz microphone must reach the caller:
// audio crosses the edge's room both ways, transcoded between the caller's
// PCMU and whatever baresip picked (Opus: it decodes at 48 kHz).
//
// Digest: baresip 1.0.0 cannot register with the edge's default challenges
// (SHA-256 then MD5), nor with MD5 then SHA-256: libre's sip_auth walks
// every WWW-Authenticate and fails the whole REGISTER with ENOSYS ("Register:
// Function not implemented") on the first non-MD5 one. So the edge keeps its
// default order and challenges baresip with MD5 alone (WithMD5OnlyFor).
func TestBaresipInterop(t *testing.T) {
	bin := needBaresip(t)
	env := startPulseWithMic(t, baresipToneHz)

	st := openStore(t)
	rec := &notifyRecords{SQLite: st, ended: make(chan callcenter.CallRecord, 10)}
	addAgent(t, st, "1001", "pw1001", false)
	addAgent(t, st, "1002", "pw1002", false)
	registered := make(chan string, 10)
	edge := startEdge(t, st, rec, WithMD5OnlyFor("baresip"), WithRegistrationObserver(func(wn string, ok bool, contact string) {
		if ok {
			registered <- wn + " " + contact
		}
	}))

	bs := startBaresip(t, bin, env, edge.Addr(), "1002", "pw1002")
	select {
	case got := <-registered:
		if !strings.HasPrefix(got, "1002 ") {
			t.Fatalf("unexpected registration %q", got)
		}
	case <-bs.exited:
		t.Fatalf("baresip exited before registering:\n%s", bs.log())
	case <-time.After(5 * time.Second):
		t.Fatalf("baresip did not register:\n%s", bs.log())
	}
	alg := bs.authAlgorithm()
	if alg != algMD5 {
		t.Errorf("REGISTER's Authorization names algorithm %q, want MD5", alg)
	}

	caller := newPhone(t, "1001", []media.Codec{media.CodecAudioUlaw}, nil)
	if err := caller.register(t, edge, "pw1001", time.Minute); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	d, err := caller.call(ctx, edge, "1002", diago.InviteOptions{})
	if err != nil {
		t.Fatalf("call baresip: %v\n%s", err, bs.log())
	}
	defer d.Close()

	stop := make(chan struct{})
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		sendTone(d.RTPSession(), audio.PCMU, 0, callerToneHz, stop)
	}()
	heard := listenForTone(d.RTPSession(), audio.PCMU, 0, baresipToneHz)
	// Let baresip decode a good second of our tone before hanging up.
	time.Sleep(time.Second)
	close(stop)
	<-sent
	if err := d.Hangup(ctx); err != nil {
		t.Errorf("hangup: %v", err)
	}
	r := rec.waitEnded(t)
	if r.Result != callcenter.ResultAnswered || r.Caller != "1001" || r.Callee != "1002" || r.HangupBy != callcenter.PartyCaller {
		t.Errorf("record %+v", r)
	}
	t.Logf("call record codec (caller leg): %s", r.Codec)
	if !heard {
		t.Errorf("caller did not hear baresip's %d Hz microphone", baresipToneHz)
	}

	// sndfile closes its WAV when the call's audio stream goes away; stop
	// baresip to be sure the header is final.
	bs.stop(t)
	pcm, rate := bs.decodedAudio(t)
	if !hasTone(pcm, rate, callerToneHz) {
		t.Errorf("baresip's decoded audio (%d samples at %d Hz, %.1f dBFS) lacks the caller's %d Hz tone",
			len(pcm), rate, audio.DBFS(pcm), callerToneHz)
	}
}

// hasTone reports whether some 200 ms window of pcm carries the tone.
func hasTone(pcm []int16, rate int, freq float64) bool {
	w := rate / 5
	for i := 0; i+w <= len(pcm); i += w / 2 {
		if audio.DetectTone(pcm[i:i+w], rate, freq) {
			return true
		}
	}
	return false
}

func needBaresip(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("baresip")
	if err != nil {
		t.Skip("baresip not installed (Debian package baresip): skipping the interop test")
	}
	if _, err := exec.LookPath("pulseaudio"); err != nil {
		t.Skip("pulseaudio not installed (Debian packages pulseaudio libasound2-plugins): baresip needs it for audio")
	}
	return bin
}

// startPulseWithMic runs a private PulseAudio whose default source is a
// sine of freq Hz and whose default sink is a null sink, and returns the
// environment that points a client (through ALSA's pulse plugin) at it.
func startPulseWithMic(t *testing.T, freq int) []string {
	t.Helper()
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
	logf, err := os.Create(filepath.Join(dir, "pulse.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command("pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--log-target=stderr",
		"-L", "module-native-protocol-unix",
		"-L", "module-null-sink sink_name=spk rate=48000 channels=1",
		"-L", fmt.Sprintf("module-sine-source source_name=mic rate=48000 frequency=%d", freq),
		"-L", "module-always-sink")
	cmd.Env = env
	// A file, not a buffer: exec then needs no copying goroutine.
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start pulseaudio: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	readLog := func() string { b, _ := os.ReadFile(logf.Name()); return string(b) }
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(socket); err == nil {
			break
		}
		select {
		case <-exited:
			t.Fatalf("pulseaudio exited: %s", readLog())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pulseaudio socket did not appear: %s", readLog())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The daemon's own defaults would be the null sink's monitor.
	for _, args := range [][]string{{"set-default-source", "mic"}, {"set-default-sink", "spk"}} {
		c := exec.Command("pactl", args...)
		c.Env = env
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("pactl %v: %v: %s", args, err, out)
		}
	}
	return env
}

// baresip is a running baresip process.
type baresip struct {
	dir    string // its config dir; sndfile writes there too
	logf   string
	exited chan struct{}
	cmd    *exec.Cmd
}

// startBaresip runs baresip with its own config dir, registering user with
// password at the edge and answering calls automatically. Audio goes to the
// private PulseAudio in env through ALSA's pulse plugin.
func startBaresip(t *testing.T, bin string, env []string, edgeAddr, user, password string) *baresip {
	t.Helper()
	dir := t.TempDir()
	// sip_listen 127.0.0.1:0 lets the kernel choose the SIP ports (baresip
	// registers the ones it got), and ctrl_tcp is not loaded: auto-answer
	// and the caller's BYE need no remote control. RTP ports come from a
	// range; baresip retries another port when one is taken.
	config := strings.Join([]string{
		"poll_method epoll",
		"sip_listen 127.0.0.1:0",
		"net_interface 127.0.0.1",
		"audio_player alsa,pulse",
		"audio_source alsa,pulse",
		"audio_alert alsa,pulse",
		"rtp_ports 20000-29999",
		"rtp_timeout 0",
		"module_path /usr/lib/baresip/modules",
		"module opus.so",
		"module g711.so",
		"module alsa.so",
		"module sndfile.so",
		"module_app account.so",
		"module_app menu.so",
		"snd_path " + dir,
		"",
	}, "\n")
	account := fmt.Sprintf("<sip:%s@%s;transport=udp>;auth_pass=%s;answermode=auto;regint=120\n", user, edgeAddr, password)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	logPath := filepath.Join(dir, "baresip.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// -s traces SIP to the log: the test reads the REGISTER's algorithm.
	cmd := exec.Command(bin, "-f", dir, "-s")
	cmd.Env = env
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start baresip: %v", err)
	}
	b := &baresip{dir: dir, logf: logPath, exited: make(chan struct{}), cmd: cmd}
	go func() { cmd.Wait(); close(b.exited) }()
	t.Cleanup(func() {
		b.stop(t)
		if t.Failed() {
			t.Logf("baresip log:\n%s", lastLines(b.log(), 80))
		}
	})
	return b
}

func (b *baresip) log() string {
	out, _ := os.ReadFile(b.logf)
	return string(out)
}

// stop asks baresip to quit (SIGTERM, so sndfile finishes its WAV) and
// kills it if it lingers.
func (b *baresip) stop(t *testing.T) {
	select {
	case <-b.exited:
		return
	default:
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-b.exited:
	case <-time.After(3 * time.Second):
		t.Log("baresip ignored SIGTERM; killing it")
		b.cmd.Process.Kill()
		<-b.exited
	}
}

var authAlgRE = regexp.MustCompile(`(?i)\nAuthorization:[^\n]*algorithm="?([A-Za-z0-9-]+)`)

// authAlgorithm returns the algorithm of the last authorized REGISTER in
// baresip's SIP trace ("MD5" when it names none, as RFC 2617 says).
func (b *baresip) authAlgorithm() string {
	log := b.log()
	i := strings.LastIndex(log, "REGISTER sip:")
	if i < 0 {
		return ""
	}
	reg := log[i:]
	if j := strings.Index(reg, "\nAuthorization:"); j < 0 {
		return ""
	}
	if m := authAlgRE.FindStringSubmatch(reg); m != nil {
		return strings.ToUpper(m[1])
	}
	return algMD5
}

// decodedAudio reads the WAV in which baresip's sndfile module saved the
// audio it decoded from the call.
func (b *baresip) decodedAudio(t *testing.T) ([]int16, int) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(b.dir, "dump-*-dec.wav"))
	if len(files) != 1 {
		all, _ := os.ReadDir(b.dir)
		t.Fatalf("want one decoded-audio WAV from baresip's sndfile, got %v (dir: %v)", files, all)
	}
	f, err := os.Open(files[0])
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := audio.DecodeWAV(f)
	if err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	t.Logf("baresip decoded %v of audio (%d Hz, %d channels)", time.Duration(len(w.Samples))*time.Second/time.Duration(w.Rate), w.Rate, w.Channels)
	return w.Samples, w.Rate
}
