// Command softphone is the agent softphone: log in to callcenterd, register
// the SIP phone it hands out, and show the phone bar.
//
//	softphone [-server URL] [-user 1001 -password secret] [-ready] [-virtual-audio] [-lang zh-CN]
//
// With -user and -password it logs in at start (demos, headless runs);
// -ready then sets the agent idle so queue calls come at once.
// -virtual-audio replaces the sound card with virtual devices (no PortAudio).
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"

	"github.com/agentphone/agentphone/assets"
	"github.com/agentphone/agentphone/audio"
	"github.com/agentphone/agentphone/callcenter/client"
	"github.com/agentphone/agentphone/phone"
	"github.com/agentphone/agentphone/ui"
	"github.com/agentphone/agentphone/ui/vm"
)

// AppID is the application ID; it must match FyneApp.toml.
const AppID = "com.agentphone.softphone"

// hostAudio is what the softphone needs from PortAudio or its stand-in.
type hostAudio interface {
	vm.DeviceLister
	vm.TonePlayer
	OpenHeadset(mic, speaker string) (audio.Device, error)
	Ringer() *vm.PlayerRinger
}

func main() {
	server := flag.String("server", "", "call-center server URL (default: the last one used, else "+vm.DefaultServer+")")
	user := flag.String("user", "", "work number to log in with")
	password := flag.String("password", "", "password; with -user the softphone logs in at start")
	virtual := flag.Bool("virtual-audio", false, "use virtual audio devices instead of PortAudio (headless runs)")
	language := flag.String("lang", "", "UI language, en or zh-CN (default: from the environment)")
	sipListen := flag.String("sip-listen", "", "local SIP address host:port (default: the address that reaches the registrar, any port)")
	autoAnswer := flag.Bool("auto-answer", false, "answer incoming calls without a click (also a switch on the phone bar)")
	ready := flag.Bool("ready", false, "set the status to idle at login, so queue calls come without a click")
	verbose := flag.Bool("v", false, "debug logging")
	flag.Parse()

	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := run(log, options{*server, *user, *password, *virtual, *language, *sipListen, *autoAnswer, *ready}); err != nil {
		log.Error("softphone", "err", err)
		os.Exit(1)
	}
}

// options are the command-line settings.
type options struct {
	server, user, password string
	virtual                bool
	language, sipListen    string
	autoAnswer, ready      bool
}

func run(log *slog.Logger, o options) error {
	server, user, password, virtual, language, sipListen := o.server, o.user, o.password, o.virtual, o.language, o.sipListen
	// -lang wins over the language chosen in the ☰ menu (the shell
	// applies that one), which wins over the system's.
	if err := ui.UseLanguageOrSystem(language); err != nil {
		log.Warn("translations", "err", err)
	}

	ringtone, err := audio.ReadWAV(bytes.NewReader(assets.Must("sounds/ring.wav")), audio.DeviceRate)
	if err != nil {
		return fmt.Errorf("ringtone: %w", err)
	}
	a := app.NewWithID(AppID)
	a.SetIcon(ui.AppIcon())
	var host hostAudio = vm.PortAudio{Prefs: a.Preferences(), Ringtone: ringtone, Log: log}
	if virtual {
		host = vm.VirtualAudio{Ringtone: ringtone, Log: log}
	}
	// Calls never fail for want of a sound card: the headset falls back to
	// the default device, then to silence, and the bar says so.
	headset := vm.NewHeadset(a.Preferences(), host, host.OpenHeadset, log.With("component", "audio"))

	startPhone := func(_ context.Context, s vm.Session) (vm.Phone, func(), error) {
		sip := s.Login.SIP
		listen := sipListen
		if listen == "" {
			listen = localAddrFor(sip.Registrar)
		}
		p, err := phone.New(phone.Account{
			Username:    sip.Username,
			Password:    sip.Password,
			Realm:       sip.Realm,
			Registrar:   sip.Registrar,
			DisplayName: s.Login.Agent.Name,
			Expires:     time.Duration(sip.Expires) * time.Second,
		}, phone.WithLogger(log.With("component", "phone")), phone.WithListen(listen), phone.WithAudio(headset.Open))
		if err != nil {
			return nil, nil, fmt.Errorf("phone: %w", err)
		}
		// The phone lives until logout, not as long as the login request.
		pctx, cancel := context.WithCancel(context.Background())
		if err := p.Start(pctx); err != nil {
			cancel()
			return nil, nil, fmt.Errorf("start phone: %w", err)
		}
		adapter := vm.AdaptPhone(pctx, p)
		stop := func() {
			if err := p.Close(); err != nil {
				log.Warn("close phone", "err", err)
			}
			adapter.Stop()
			cancel()
			if cb, ok := s.Backend.(*vm.ClientBackend); ok {
				lctx, lcancel := context.WithTimeout(context.Background(), 3*time.Second)
				defer lcancel()
				if err := cb.Client().Logout(lctx); err != nil {
					log.Warn("logout", "err", err)
				}
			}
		}
		return adapter, stop, nil
	}

	shell := ui.NewShell(ui.Config{
		App:        a,
		Log:        log,
		Connect:    vm.ClientConnector(client.WithLogger(log.With("component", "client"))),
		StartPhone: startPhone,
		Devices:    host,
		Tones:      host,
		Ringer:     host.Ringer(),
		Headset:    headset,
		Server:     server,
		WorkNumber: user,
		Password:   password,
		AutoLogin:  user != "" && password != "",
		AutoAnswer: o.autoAnswer,
		Ready:      o.ready,
		Language:   language,
	})

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		fyne.Do(a.Quit)
	}()
	shell.Show()
	a.Run()
	stop()
	shell.Close()
	return nil
}

// localAddrFor returns the local IP the OS routes toward hostport, with
// port 0, so the SIP contact is reachable by the registrar. It falls back
// to loopback.
func localAddrFor(hostport string) string {
	c, err := net.Dial("udp", hostport) // no packet is sent for UDP
	if err != nil {
		return "127.0.0.1:0"
	}
	defer c.Close()
	host, _, _ := net.SplitHostPort(c.LocalAddr().String())
	return net.JoinHostPort(host, "0")
}
