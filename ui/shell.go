package ui

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/theme"

	"github.com/agentphone/agentphone/ui/vm"
)

// Config is what the shell needs from the program that starts it.
type Config struct {
	App fyne.App
	Log *slog.Logger
	// Connect makes a Backend for the server the agent typed.
	Connect vm.Connector
	// Keyring stores remembered passwords; nil means the OS keyring.
	Keyring vm.Keyring
	// StartPhone builds and registers the SIP phone for a fresh session.
	// stop hangs up, unregisters and releases the phone; it may block.
	StartPhone func(ctx context.Context, s vm.Session) (p vm.Phone, stop func(), err error)
	// Devices and Tones back the audio settings dialog.
	Devices vm.DeviceLister
	Tones   vm.TonePlayer
	// Ringer plays the ringtone on incoming calls; nil rings silently.
	Ringer vm.Ringer
	// Headset is checked at login and after the audio settings are saved;
	// its Notice shows on the phone bar. Nil shows no audio notice.
	Headset *vm.Headset

	// Server, WorkNumber and Password prefill the login form when set.
	Server, WorkNumber, Password string
	// AutoLogin submits the form at start (demo and headless runs).
	AutoLogin bool
	// AutoAnswer turns auto-answer on at login whatever was saved.
	AutoAnswer bool
}

// prefAutoAnswer keeps the auto-answer switch across runs.
const prefAutoAnswer = "phone.auto_answer"

// Shell owns the one window of the softphone and moves it between the login
// form and the phone bar.
type Shell struct {
	cfg   Config
	log   *slog.Logger
	win   fyne.Window
	login *vm.LoginVM
	audio *vm.AudioVM

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// Fields below change on the main goroutine only.
	loginView *loginView
	audioWin  fyne.Window // open audio settings, nil when closed
	session   *session
}

// session is everything that lives between login and logout.
type session struct {
	cancel context.CancelFunc
	bar    *vm.PhoneBarVM
	view   *phoneBarView
	pop    *incomingPop
	stop   func()
	done   sync.WaitGroup
}

// NewShell creates the window (not shown yet) and the login view-model.
func NewShell(cfg Config) *Shell {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	s := &Shell{cfg: cfg, log: cfg.Log}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	opts := []vm.LoginOption{vm.WithLoginLogger(cfg.Log)}
	if cfg.Keyring != nil {
		opts = append(opts, vm.WithKeyring(cfg.Keyring))
	}
	prefs := cfg.App.Preferences()
	s.login = vm.NewLoginVM(prefs, cfg.Connect, opts...)
	if cfg.Server != "" {
		_ = s.login.Server.Set(cfg.Server)
	}
	if cfg.WorkNumber != "" {
		_ = s.login.WorkNumber.Set(cfg.WorkNumber)
	}
	if cfg.Password != "" {
		_ = s.login.Password.Set(cfg.Password)
	}
	s.audio = vm.NewAudioVM(prefs, cfg.Devices, cfg.Tones, cfg.Log)
	s.win = cfg.App.NewWindow(lang.L("AgentPhone"))
	s.win.SetIcon(AppIcon())
	s.win.SetMaster()
	s.showLogin()
	return s
}

// Window is the softphone's window.
func (s *Shell) Window() fyne.Window { return s.win }

// Show shows the window and, with AutoLogin, logs in. Main goroutine only.
func (s *Shell) Show() {
	s.win.Show()
	if s.cfg.AutoLogin {
		s.submit()
	}
}

// Close ends the session (hanging up) and waits for background work.
// Call it after the app's event loop has returned.
func (s *Shell) Close() {
	s.cancel()
	if ss := s.session; ss != nil {
		s.session = nil
		s.endSession(ss)
	}
	s.wg.Wait()
}

func (s *Shell) showLogin() {
	s.loginView = newLoginView(s.login, s.submit)
	s.win.SetTitle(lang.L("AgentPhone"))
	s.win.SetContent(s.loginView.content)
	s.win.Resize(fyne.NewSize(380, 480))
	s.win.Canvas().Focus(s.loginView.work)
}

// submit logs in off the main goroutine and switches to the phone bar.
func (s *Shell) submit() {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		sess, err := s.login.Submit(s.ctx)
		if err != nil {
			s.log.Info("login failed", "err", err)
			return
		}
		s.log.Info("logged in", "agent", sess.Login.Agent.WorkNumber, "server", sess.Server)
		if s.cfg.Headset != nil {
			s.cfg.Headset.Check()
		}
		p, stop, err := s.cfg.StartPhone(s.ctx, sess)
		if err != nil {
			s.log.Error("start phone", "err", err)
			_ = s.login.Error.Set(lang.L("Logged in, but the phone could not start: {{.Error}}", map[string]any{"Error": err.Error()}))
			return
		}
		fyne.Do(func() {
			if s.ctx.Err() != nil {
				stop()
				return
			}
			s.startSession(sess, p, stop)
		})
	}()
}

func (s *Shell) startSession(sess vm.Session, p vm.Phone, stop func()) {
	ctx, cancel := context.WithCancel(s.ctx)
	ss := &session{cancel: cancel, stop: stop}
	opts := []vm.PhoneBarOption{
		vm.WithLogger(s.log),
		vm.WithServerEvents(sess.Backend.Events(ctx)),
		vm.WithSignedOut(func(reason string) {
			s.log.Warn("session taken over", "reason", reason)
			fyne.Do(func() {
				s.logout(false)
				_ = s.login.Error.Set(lang.L("You were signed out: this account logged in on another device"))
			})
		}),
	}
	if s.cfg.Ringer != nil {
		opts = append(opts, vm.WithRinger(s.cfg.Ringer))
	}
	if s.cfg.Headset != nil {
		opts = append(opts, vm.WithAudioNotice(s.cfg.Headset.Notice))
	}
	ss.bar = vm.NewPhoneBarVM(sess.Login.Agent, p, opts...)
	menu := fyne.NewMenu("",
		fyne.NewMenuItem(lang.L("Audio settings…"), s.showAudio),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(lang.L("Log out"), func() { s.logout(false) }),
		fyne.NewMenuItem(lang.L("Reset login"), func() { s.logout(true) }),
	)
	prefs := s.cfg.App.Preferences()
	ss.bar.SetAutoAnswer(s.cfg.AutoAnswer || prefs.Bool(prefAutoAnswer))
	ss.bar.AutoAnswer.AddListener(binding.NewDataListener(func() {
		on, _ := ss.bar.AutoAnswer.Get()
		prefs.SetBool(prefAutoAnswer, on)
	}))
	ss.view = newPhoneBarView(ss.bar, menu, s.win.Canvas)
	ss.done.Add(1)
	go func() {
		defer ss.done.Done()
		ss.bar.Run(ctx)
	}()
	s.session = ss
	s.win.SetTitle(fmt.Sprintf("%s — %s", lang.L("AgentPhone"), sess.Login.Agent.WorkNumber))
	s.win.SetContent(ss.view.content)
	ss.pop = newIncomingPop(ss.bar, s.win.Canvas(), ss.view.header)
	// Tall enough for a call in progress (call info, DTMF and a message
	// line appear then), so the window does not jump when a call starts.
	s.win.Resize(fyne.NewSize(380, ss.view.content.MinSize().Height+3*theme.TextSize()*2))
}

// showAudio opens the audio settings, or brings them to the front.
func (s *Shell) showAudio() {
	if s.audioWin != nil {
		s.audioWin.RequestFocus()
		return
	}
	s.audioWin = showAudioSettings(s.ctx, s.cfg.App, s.audio, func(a vm.AudioSettings) {
		s.log.Info("audio settings saved", "mic", a.Mic, "speaker", a.Speaker, "ringer", a.Ringer)
		if h := s.cfg.Headset; h != nil {
			// Listing devices probes the sound system: not on the main goroutine.
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				h.Check()
			}()
		}
	})
	s.audioWin.SetOnClosed(func() { s.audioWin = nil })
}

// logout ends the session and goes back to the login form; forget also
// removes the saved password. Main goroutine only.
func (s *Shell) logout(forget bool) {
	ss := s.session
	if ss == nil {
		return
	}
	s.session = nil
	ss.pop.popup.Hide()
	if forget {
		s.login.Forget()
	} else {
		_ = s.login.Password.Set(s.passwordAfterLogout())
	}
	s.showLogin()
	// Hanging up and unregistering take network round trips: off the main goroutine.
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.endSession(ss)
	}()
}

// passwordAfterLogout keeps the typed password only if it is remembered.
func (s *Shell) passwordAfterLogout() string {
	if r, _ := s.login.Remember.Get(); r {
		pw, _ := s.login.Password.Get()
		return pw
	}
	return ""
}

func (s *Shell) endSession(ss *session) {
	ss.cancel()
	ss.done.Wait()
	ss.bar.Close()
	ss.stop()
}
