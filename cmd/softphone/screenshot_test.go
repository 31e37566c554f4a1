package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/agentphone/agentphone/assets"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/admin"
	"github.com/agentphone/agentphone/callcenter/center"
	"github.com/agentphone/agentphone/callcenter/crm"
	"github.com/agentphone/agentphone/callcenter/ivr"
	"github.com/agentphone/agentphone/callcenter/pstnsim"
	"github.com/agentphone/agentphone/callcenter/server"
	"github.com/agentphone/agentphone/callcenter/sipedge"
	"github.com/agentphone/agentphone/callcenter/store"
	"github.com/agentphone/agentphone/ui/vm"
)

// The screenshot test runs the real softphone binary under Xvfb against an
// in-process callcenterd and a simulated carrier, and checks what is on
// screen: the login form, the registered bar, the incoming-call pop, an
// active call, and the no-sound-card warning. With SCREENSHOT_DIR set it
// also writes the window's PNGs there (the docs' screenshots):
//
//	SCREENSHOT_DIR=$PWD/docs go test -count=1 -run TestScreenshots ./cmd/softphone/

const (
	customer = "13800138000"
	realm    = "agentphone"
	agentWN  = "1001"
)

// Colours the checks look for (the bar's own colours, and Fyne's dark theme).
var (
	dotGreen = color.NRGBA{R: 0x2e, G: 0xb8, B: 0x4b, A: 0xff} // colorOnline in ui/phonebar.go
)

func TestScreenshots(t *testing.T) {
	for _, tool := range []string{"Xvfb", "import"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (apt-get install xvfb imagemagick): %v", tool, err)
		}
	}
	start := time.Now()
	bin := buildSoftphone(t)
	t.Logf("built the softphone in %v", time.Since(start).Round(time.Millisecond))
	cc := startCenter(t)

	t.Run("login", func(t *testing.T) {
		// The server is never contacted before "Log in": show make run's.
		app := startApp(t, bin, "-server", "http://127.0.0.1:8080")
		shot := app.waitShot(t, "login form", func(s *screen) bool { return s.count(isBlue) > 5000 })
		app.stop(t)
		shot.save(t, "login.png")
	})

	t.Run("incoming", func(t *testing.T) {
		app := startApp(t, bin, "-server", cc.url, "-user", agentWN, "-password", admin.DemoPassword, "-virtual-audio", "-ready")
		cc.waitRegistered(t, app)
		cc.waitIdle(t)
		idle := app.waitShot(t, "green registration dot", func(s *screen) bool { return s.count(near(dotGreen, 10)) > 50 })
		if n := idle.count(isRed); n > 100 {
			t.Errorf("idle bar has %d red pixels: a danger button is enabled with no call", n)
		}
		// The status drop-down open over the figures (needs xdotool to click).
		if app.click(t, idle, statusButtonAt) {
			menu := app.waitShot(t, "status drop-down open", func(s *screen) bool { return !s.same(idle) })
			menu.save(t, "status-menu.png")
			app.key(t, "Escape")
			time.Sleep(300 * time.Millisecond) // the menu's close is drawn
		}

		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		call := cc.callIn(t, ctx, app)
		// The modal pop dims the bar (the dot loses its colour) and shows
		// the green Answer and red Reject buttons and the server's card.
		pop := app.waitShot(t, "incoming-call pop", func(s *screen) bool {
			return s.count(isRed) > 500 && s.count(near(dotGreen, 10)) < 10
		})
		// The card's details come from the server's offer event: give
		// them a moment to arrive before the docs' picture.
		time.Sleep(time.Second)
		pop = app.waitShot(t, "incoming-call pop", func(s *screen) bool {
			return s.count(isRed) > 500 && s.count(near(dotGreen, 10)) < 10
		})
		pop.save(t, "incoming.png")

		// The customer gives up while it rings: a missed offer.
		if err := call.Hangup(ctx); err != nil {
			t.Errorf("customer hang up: %v", err)
		}
		app.waitShot(t, "pop gone after the customer hung up", func(s *screen) bool {
			return s.count(isRed) < 100 && s.count(near(dotGreen, 10)) > 50
		})
		// The history tab shows the missed call in red, with the badge.
		if app.click(t, idle, historyTabAt) {
			hist := app.waitShot(t, "history with a missed call in red", func(s *screen) bool { return s.count(isRed) > 100 })
			hist.save(t, "history.png")
		}
		app.stop(t)
	})

	t.Run("active", func(t *testing.T) {
		app := startApp(t, bin, "-server", cc.url, "-user", agentWN, "-password", admin.DemoPassword, "-virtual-audio", "-auto-answer", "-ready")
		cc.waitRegistered(t, app)
		cc.waitIdle(t)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		call := cc.callIn(t, ctx, app)
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("center's status of %s: %+v", agentWN, cc.cc.Status(agentWN))
			}
		})
		// The virtual headset's microphone plays 440 Hz: the customer hears
		// the agent through the real app, the server's room and G.711.
		waitFor(t, 10*time.Second, "customer hears the agent's 440 Hz", func() bool {
			if a := app; a.exited() {
				t.Fatalf("softphone exited:\n%s", a.output())
			}
			return call.Heard(440)
		})
		// Long enough for the call timer to read 00:02 or more: a frozen
		// 00:00 on the docs' picture looks broken.
		time.Sleep(3 * time.Second)
		shot := app.waitShot(t, "active call (red Hang up, green dot)", func(s *screen) bool {
			return s.count(isRed) > 2000 && s.count(near(dotGreen, 10)) > 50
		})
		shot.save(t, "softphone.png")
		// The customer hangs up: after-call work counts down (sales: 15 s).
		if err := call.Hangup(ctx); err != nil {
			t.Errorf("customer hang up: %v", err)
		}
		waitFor(t, 10*time.Second, "agent in after-call work", func() bool {
			return cc.cc.Status(agentWN).Activity == callcenter.ActivityACW
		})
		time.Sleep(2 * time.Second) // the countdown has visibly moved
		acw := app.waitShot(t, "after-call work row", func(s *screen) bool {
			return s.count(isRed) < 2000 && s.count(near(dotGreen, 10)) > 50
		})
		acw.save(t, "acw.png")
		app.stop(t)
	})

	t.Run("zh-CN", func(t *testing.T) {
		app := startApp(t, bin, "-lang", "zh-CN", "-server", cc.url, "-user", agentWN, "-password", admin.DemoPassword, "-virtual-audio", "-ready")
		cc.waitRegistered(t, app)
		cc.waitIdle(t)
		time.Sleep(time.Second) // figures and status timer drawn
		shot := app.waitShot(t, "green registration dot", func(s *screen) bool { return s.count(near(dotGreen, 10)) > 50 })
		shot.save(t, "softphone-zh.png")
		app.stop(t)
	})

	t.Run("no sound card", func(t *testing.T) {
		if devs, err := (vm.PortAudio{}).Devices(); err != nil || len(devs) > 0 {
			t.Skipf("this host has audio devices (%d, %v): the no-sound-card path needs none", len(devs), err)
		}
		app := startApp(t, bin, "-server", cc.url, "-user", agentWN, "-password", admin.DemoPassword, "-auto-answer", "-ready")
		cc.waitRegistered(t, app)
		cc.waitIdle(t)
		shot := app.waitShot(t, "orange no-audio warning", func(s *screen) bool { return s.count(isOrange) > 300 })
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// The call is answered on the silent headset instead of failing.
		call := cc.callIn(t, ctx, app)
		waitFor(t, 10*time.Second, "agent on the call", func() bool {
			return cc.cc.Status(agentWN).Activity == callcenter.ActivityTalking
		})
		time.Sleep(500 * time.Millisecond)
		if call.Heard(440) {
			t.Error("the customer hears a tone from a silent headset")
		}
		if err := call.Hangup(ctx); err != nil {
			t.Errorf("customer hang up: %v", err)
		}
		app.stop(t)
		_ = shot // checked above; not one of the docs' pictures
	})
	t.Run("in-call work", func(t *testing.T) { inCallShots(t, bin, cc) })
	t.Logf("screenshot test took %v", time.Since(start).Round(time.Millisecond))
}

// buildSoftphone builds this package's binary into a temp dir, with -race
// when the test runs with it, so races in the real app fail the test too.
func buildSoftphone(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		goBin = filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	}
	bin := filepath.Join(t.TempDir(), "softphone")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		// Same flags as the Makefile's race tests: PortAudio's binding
		// trips checkptr, which -race turns on.
		args = append(args, "-race", "-gcflags=github.com/gordonklaus/portaudio=-d=checkptr=0")
	}
	cmd := exec.Command(goBin, append(args, ".")...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startXvfb starts a virtual X server on a free display: -displayfd makes
// Xvfb pick the number and write it to us, so parallel runs never clash.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1024x768x24", "-nolisten", "tcp", "-br")
	cmd.ExtraFiles = []*os.File{w} // fd 3
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- strings.TrimSpace(s)
	}()
	select {
	case n := <-line:
		if _, err := strconv.Atoi(n); err != nil {
			t.Fatalf("Xvfb gave display %q: %s", n, stderr.String())
		}
		return ":" + n
	case <-time.After(20 * time.Second):
		t.Fatalf("Xvfb did not report its display: %s", stderr.String())
	}
	return ""
}

// centerd is callcenterd's store, SIP edge and API in-process (as
// cmd/callcenterd's start wires them), plus the carrier simulator.
type centerd struct {
	url  string
	cc   *center.Center
	edge *sipedge.Edge
	sim  *pstnsim.Sim
	st   *store.SQLite
	// crm keeps notes, callbacks and customers, with its reminder loop
	// running, as callcenterd's serve wires it.
	crm *crm.Service
}

// completingRecords stores the edge's records and tells the CRM of each
// ended one, which marks done the callbacks it fulfilled (as
// cmd/callcenterd does).
type completingRecords struct {
	st  *store.SQLite
	crm *crm.Service
}

func (r completingRecords) BeginCallRecord(ctx context.Context, rec callcenter.CallRecord) error {
	return r.st.BeginCallRecord(ctx, rec)
}

func (r completingRecords) EndCallRecord(ctx context.Context, rec callcenter.CallRecord) error {
	if err := r.st.EndCallRecord(ctx, rec); err != nil {
		return err
	}
	return r.crm.CallCompleted(ctx, rec)
}

func startCenter(t *testing.T) *centerd {
	t.Helper()
	log := slog.New(slog.DiscardHandler)
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "cc.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := admin.Seed(ctx, st, realm); err != nil {
		t.Fatal(err)
	}

	// The inbound call center drives the trunk's calls (IVR → queue →
	// offer → ACW) as in cmd/callcenterd's start; its changes reach the
	// API server once that exists.
	sink := &server.Forwarder{}
	prompts, err := ivr.NewPrompts(assets.Prompts)
	if err != nil {
		t.Fatal(err)
	}
	c := &centerd{st: st}
	c.crm = crm.New(st, crm.WithLogger(log.With("part", "crm")), crm.WithSink(sink))
	c.cc, err = center.New(st, center.WithLogger(log.With("part", "center")),
		center.WithEvents(sink), center.WithPrompts(prompts),
		center.WithCustomers(c.crm), center.WithCallbacks(c.crm, ""))
	if err != nil {
		t.Fatal(err)
	}
	crmDone := make(chan struct{})
	go func() {
		defer close(crmDone)
		c.crm.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-crmDone })
	ccDone := make(chan struct{})
	go func() {
		defer close(ccDone)
		c.cc.Run(ctx)
	}()
	t.Cleanup(func() { cancel(); <-ccDone })

	c.sim, err = pstnsim.New(pstnsim.WithListen("127.0.0.1:0"), pstnsim.WithLogger(log.With("part", "pstnsim")))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.sim.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.sim.Close() })
	c.edge, err = sipedge.New(st, completingRecords{st: st, crm: c.crm},
		sipedge.WithInbound(c.cc.HandleInbound),
		sipedge.WithAgentActivity(c.cc.AgentActivity),
		sipedge.WithLogger(log.With("part", "sip")),
		sipedge.WithRealm(realm),
		sipedge.WithListen("127.0.0.1:0"),
		sipedge.WithTrunk(c.sim.Addr()),
		sipedge.WithCallObserver(sink.PublishCall),
		sipedge.WithRegistrationObserver(sink.SetRegistered),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.edge.Start(ctx); err != nil {
		t.Fatalf("start SIP edge: %v", err)
	}
	t.Cleanup(func() { c.edge.Close() })
	if err := c.sim.SetServer(c.edge.Addr()); err != nil {
		t.Fatal(err)
	}

	api := server.New(st,
		server.WithLogger(log.With("part", "api")),
		server.WithRealm(realm),
		server.WithSIPRegistrar(c.edge.Addr()),
		server.WithPresence(c.edge.Registered),
		server.WithCenter(c.cc),
		server.WithCRM(c.crm),
		server.WithController(c.cc),
	)
	sink.Set(api)
	t.Cleanup(func() { api.Close() })
	hs := httptest.NewServer(api.Handler())
	t.Cleanup(hs.Close)
	c.url = hs.URL
	return c
}

func (c *centerd) waitRegistered(t *testing.T, a *softphone) {
	t.Helper()
	waitFor(t, 20*time.Second, "agent "+agentWN+" registered", func() bool {
		if a.exited() {
			t.Fatalf("softphone exited:\n%s", a.output())
		}
		return c.edge.Registered(agentWN)
	})
	// The edge answers 200 before the app has read it and repainted.
}

// app is one run of the softphone binary.
type softphone struct {
	cmd     *exec.Cmd
	display string
	out     lockedBuffer
	done    chan struct{}
	err     error // Wait's result, once done is closed
}

// startApp runs the softphone on a display of its own: a window that went
// away can leave its pixels on a shared root, and the window is found as
// the only thing drawn on a black root.
func startApp(t *testing.T, bin string, args ...string) *softphone {
	t.Helper()
	display := startXvfb(t)
	home := t.TempDir()
	a := &softphone{display: display, done: make(chan struct{})}
	a.cmd = exec.Command(bin, append([]string{"-lang", "en", "-v"}, args...)...)
	a.cmd.Env = append(os.Environ(),
		"DISPLAY="+display,
		"LANG=en_US.UTF-8",
		// A fresh home per run: no preferences (auto-answer, devices)
		// leak between runs or from the developer's own.
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
		"FYNE_THEME=dark",
		"FYNE_SCALE=1",
	)
	a.cmd.Stdout = &a.out
	a.cmd.Stderr = &a.out
	if err := a.cmd.Start(); err != nil {
		t.Fatalf("start softphone: %v", err)
	}
	go func() {
		a.err = a.cmd.Wait()
		close(a.done)
	}()
	t.Cleanup(func() {
		if !a.exited() {
			_ = a.cmd.Process.Kill()
			<-a.done
		}
		if t.Failed() {
			t.Logf("softphone output:\n%s", a.output())
		}
	})
	return a
}

func (a *softphone) exited() bool {
	select {
	case <-a.done:
		return true
	default:
		return false
	}
}

func (a *softphone) output() string { return a.out.String() }

// stop quits the app like a desktop session does (SIGTERM) and checks it
// exits cleanly: status 0 within a few seconds, having hung up and
// unregistered on its way out.
func (a *softphone) stop(t *testing.T) {
	t.Helper()
	if a.exited() {
		t.Fatalf("softphone exited early (%v):\n%s", a.err, a.output())
	}
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("softphone still running 15 s after SIGTERM:\n%s", a.output())
	}
	if a.err != nil {
		t.Errorf("softphone exit: %v (want status 0)", a.err)
	}
	if strings.Contains(a.output(), "WARNING: DATA RACE") {
		t.Error("the race detector found a race in the softphone")
	}
}

// waitShot takes screenshots until ok accepts one, and returns it.
func (a *softphone) waitShot(t *testing.T, what string, ok func(*screen) bool) *screen {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last *screen
	var lastErr error
	for time.Now().Before(deadline) {
		if a.exited() {
			t.Fatalf("softphone exited while waiting for %s (%v):\n%s", what, a.err, a.output())
		}
		s, err := grab(t, a.display)
		if err == nil && s.window != (image.Rectangle{}) {
			last = s
			if ok(s) {
				s.checkNotBlank(t)
				return s
			}
		}
		lastErr = err
		time.Sleep(150 * time.Millisecond)
	}
	if last != nil {
		// Kept where the developer can look at it: the test's temp dirs go.
		dir := os.Getenv("SCREENSHOT_DIR")
		if dir == "" {
			dir = os.TempDir()
		}
		p := filepath.Join(dir, "failed-"+strings.ReplaceAll(t.Name(), "/", "-")+".png")
		_ = writePNG(p, last.img)
		t.Fatalf("timed out waiting for %s; last screenshot %s (red %d, green dot %d, blue %d, orange %d)",
			what, p, last.count(isRed), last.count(near(dotGreen, 10)), last.count(isBlue), last.count(isOrange))
	}
	t.Fatalf("timed out waiting for %s: no window on screen (%v)", what, lastErr)
	return nil
}

// screen is one screenshot cropped to the softphone's window.
type screen struct {
	img    image.Image
	window image.Rectangle // the window's bounds on the root (non-black area)
}

// grab screenshots the whole display with ImageMagick's import and finds
// the window: without a window manager it is the only thing drawn on the
// black (-br) root.
func grab(t *testing.T, display string) (*screen, error) {
	p := filepath.Join(t.TempDir(), "root.png")
	cmd := exec.Command("import", "-display", display, "-window", "root", p)
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("import: %v: %s", err, out)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		return nil, fmt.Errorf("decode %s: %w", p, err)
	}
	b := img.Bounds()
	win := image.Rectangle{Min: b.Max, Max: b.Min}
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			if r|g|bl != 0 {
				win.Min.X, win.Min.Y = min(win.Min.X, x), min(win.Min.Y, y)
				win.Max.X, win.Max.Y = max(win.Max.X, x+1), max(win.Max.Y, y+1)
			}
		}
	}
	if win.Empty() {
		win = image.Rectangle{}
	}
	s := &screen{window: win}
	if !win.Empty() {
		s.img = img.(interface {
			SubImage(image.Rectangle) image.Image
		}).SubImage(win)
	}
	return s, nil
}

// count returns how many pixels of the window match.
func (s *screen) count(match func(r, g, b uint8) bool) int {
	n := 0
	b := s.img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(s.img.At(x, y)).(color.NRGBA)
			if match(c.R, c.G, c.B) {
				n++
			}
		}
	}
	return n
}

// checkNotBlank fails on an empty or one-colour window: a window the GL
// driver never drew into is black or a single fill.
func (s *screen) checkNotBlank(t *testing.T) {
	t.Helper()
	if w, h := s.window.Dx(), s.window.Dy(); w < 300 || h < 300 || w > 800 || h > 760 {
		t.Errorf("window is %dx%d, want about 380 wide and 480-600 high", w, h)
	}
	colours := map[color.NRGBA]bool{}
	b := s.img.Bounds()
	for y := b.Min.Y; y < b.Max.Y && len(colours) < 50; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			colours[color.NRGBAModel.Convert(s.img.At(x, y)).(color.NRGBA)] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("window has only %d colours: blank or not drawn", len(colours))
	}
}

// save writes the window to SCREENSHOT_DIR/name when that is set.
func (s *screen) save(t *testing.T, name string) {
	t.Helper()
	dir := os.Getenv("SCREENSHOT_DIR")
	if dir == "" {
		return
	}
	// Copy to an image that starts at 0,0: encoders keep SubImage offsets.
	b := s.img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			out.Set(x, y, s.img.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	if err := writePNG(filepath.Join(dir, name), out); err != nil {
		t.Errorf("save screenshot: %v", err)
		return
	}
	t.Logf("wrote %s", filepath.Join(dir, name))
}

func writePNG(path string, img image.Image) error {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

// Colour classes, loose enough for anti-aliasing and theme shades.
func isRed(r, g, b uint8) bool    { return r > 180 && g < 110 && b < 110 }
func isBlue(r, g, b uint8) bool   { return int(b) > int(r)+80 && int(b) > int(g)+30 }
func isOrange(r, g, b uint8) bool { return r > 200 && g > 100 && g < 200 && b < 90 }

func near(c color.NRGBA, tol int) func(r, g, b uint8) bool {
	d := func(a, b uint8) bool { return int(a)-int(b) <= tol && int(b)-int(a) <= tol }
	return func(r, g, b uint8) bool { return d(r, c.R) && d(g, c.G) && d(b, c.B) }
}

func waitFor(t *testing.T, d time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// lockedBuffer is a bytes.Buffer safe for the process's writers and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitIdle waits until the center may offer agent 1001 a queue call: the
// app's -ready reached the server and the phone's registration the center.
func (c *centerd) waitIdle(t *testing.T) {
	t.Helper()
	waitFor(t, 20*time.Second, "agent "+agentWN+" idle at the center", func() bool {
		return c.cc.Status(agentWN).Available()
	})
}

// callIn places a customer call to the hotline and keys 1 at the IVR
// (sales, where 1001 is first in line). The call returns once the IVR
// answers it.
func (c *centerd) callIn(t *testing.T, ctx context.Context, a *softphone) *pstnsim.Call {
	t.Helper()
	call, err := c.sim.Call(ctx, customer, admin.DemoNumber, pstnsim.CallOptions{})
	if err != nil {
		t.Fatalf("customer call: %v\n%s", err, a.output())
	}
	if err := call.SendDTMF(ctx, "1"); err != nil {
		t.Fatalf("customer keys 1: %v", err)
	}
	return call
}

// Where the bar's controls are, as a point in the window for a click.
// They follow the window's layout (ui/phonebar.go): the status button
// is the first row under the header, the History tab the second tab.
func statusButtonAt(s *screen) image.Point { return image.Pt(60, 100) }
func historyTabAt(s *screen) image.Point   { return image.Pt(145, 207) }

// click clicks at where(s) in the window with xdotool; false (and a log
// line) when xdotool is not installed, so the shots that need a click are
// left out rather than the test failing on a host without it.
func (a *softphone) click(t *testing.T, s *screen, where func(*screen) image.Point) bool {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		t.Logf("xdotool not installed: no click, no picture of what it opens")
		return false
	}
	p := where(s).Add(s.window.Min)
	a.xdotool(t, "mousemove", strconv.Itoa(p.X), strconv.Itoa(p.Y), "click", "1")
	return true
}

// key presses a key in the app's window with xdotool.
func (a *softphone) key(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath("xdotool"); err == nil {
		a.xdotool(t, "key", name)
	}
}

func (a *softphone) xdotool(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+a.display)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("xdotool %v: %v: %s", args, err, out)
	}
}

// diff counts the pixels that differ between two shots of the same
// window (0 when the window moved or changed size: nothing comparable).
func (s *screen) diff(o *screen) int {
	if s.window.Size() != o.window.Size() {
		return s.window.Dx() * s.window.Dy()
	}
	n := 0
	sb, ob := s.img.Bounds(), o.img.Bounds()
	for y := 0; y < sb.Dy(); y++ {
		for x := 0; x < sb.Dx(); x++ {
			r1, g1, b1, _ := s.img.At(sb.Min.X+x, sb.Min.Y+y).RGBA()
			r2, g2, b2, _ := o.img.At(ob.Min.X+x, ob.Min.Y+y).RGBA()
			if r1 != r2 || g1 != g2 || b1 != b2 {
				n++
			}
		}
	}
	return n
}

// same reports whether little changed: a timer ticking is not a change.
func (s *screen) same(o *screen) bool { return s.diff(o) < 2000 }
