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

	"github.com/agentphone/agentphone/callcenter/api"
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
	// Ready asks the server for "idle" at login, so queue calls come
	// without a click (demo and headless runs).
	Ready bool
	// Language forces the UI language ("en", "zh-CN"); empty uses the one
	// chosen in the ☰ menu, else the system's.
	Language string
}

// Preference keys of the shell.
const (
	prefAutoAnswer = "phone.auto_answer" // the auto-answer switch across runs
	prefLanguage   = "ui.language"       // "", "en" or "zh-CN"
)

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

	// foreground is whether the app has the focus: notifications are only
	// raised while it has not. Main goroutine only.
	foreground bool

	// Fields below change on the main goroutine only.
	loginView *loginView
	audioWin  fyne.Window // open audio settings, nil when closed
	session   *session
}

// session is everything that lives between login and logout.
type session struct {
	cancel context.CancelFunc
	bar    *vm.PhoneBarVM
	parts  *parts
	sess   vm.Session
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
	s := &Shell{cfg: cfg, log: cfg.Log, foreground: true}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if cfg.Language == "" {
		if l := cfg.App.Preferences().String(prefLanguage); l != "" {
			if err := UseLanguage(l); err != nil {
				s.log.Warn("language", "err", err)
			}
		}
	}
	lc := cfg.App.Lifecycle()
	lc.SetOnEnteredForeground(func() { s.foreground = true })
	lc.SetOnExitedForeground(func() { s.foreground = false })
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
	s.win.Canvas().SetOnTypedRune(nil) // no call, no DTMF from the keyboard
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
	ss := &session{cancel: cancel, stop: stop, sess: sess}
	prefs := s.cfg.App.Preferences()
	notify := func(title, body string) { fyne.Do(func() { s.notify(title, body) }) }
	var initial api.StatusChange
	if on := s.cfg.AutoAnswer || prefs.Bool(prefAutoAnswer); on {
		initial.AutoAnswer = &on
	}
	if s.cfg.Ready {
		online, idle := "online", "idle"
		initial.Presence, initial.Phone = &online, &idle
	}
	ss.parts = &parts{
		status: vm.NewStatusVM(sess.Backend,
			vm.WithStatusLogger(s.log),
			vm.WithStatusApplied(func(st api.AgentStatus) { ss.bar.ApplyStatus(st) }),
			vm.WithLocalAutoAnswer(func(on bool) { ss.bar.SetAutoAnswer(on) }),
			vm.WithInitialStatus(initial)),
		pop: vm.NewPopVM(vm.WithPopLogger(s.log), vm.WithNotifier(notify)),
		history: vm.NewHistoryVM(sess.Backend, prefs, func(n string) { ss.bar.DialNumber(n) },
			vm.WithHistoryLogger(s.log), vm.WithMissedNotifier(notify)),
	}
	barParts := []vm.Part{ss.parts.status, ss.parts.pop, ss.parts.history}
	ss.parts.work = s.newWork(ss, notify)
	if w := ss.parts.work; w != nil {
		// After the pop: they read the popped call from it. The notes go
		// last: answering starts their request, and nothing after it
		// should race it in tests, where listeners run on the setter.
		barParts = append(barParts, w.incall, w.callbacks, w.customer, w.notes)
	}
	opts := []vm.PhoneBarOption{
		vm.WithParts(barParts...),
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
	ss.bar.SetAutoAnswer(s.cfg.AutoAnswer || prefs.Bool(prefAutoAnswer))
	ss.bar.AutoAnswer.AddListener(binding.NewDataListener(func() {
		on, _ := ss.bar.AutoAnswer.Get()
		prefs.SetBool(prefAutoAnswer, on)
	}))
	ss.done.Add(1)
	go func() {
		defer ss.done.Done()
		ss.bar.Run(ctx)
	}()
	s.session = ss
	s.showBar(ss)
	ss.parts.history.Load()
	if w := ss.parts.work; w != nil {
		w.callbacks.Load()
	}
}

// newWork makes the in-call work view-models when the server offers them
// (the Backend implements vm.InCall and vm.CRM), else nil.
func (s *Shell) newWork(ss *session, notify func(title, body string)) *workParts {
	ic, ok1 := ss.sess.Backend.(vm.InCall)
	crm, ok2 := ss.sess.Backend.(vm.CRM)
	if !ok1 || !ok2 {
		return nil
	}
	pop := ss.parts.pop
	return &workParts{
		incall: vm.NewInCallVM(ic, pop, vm.WithInCallLogger(s.log)),
		notes:  vm.NewNotesVM(crm, pop, vm.WithNotesLogger(s.log)),
		callbacks: vm.NewCallbacksVM(crm, func(n string) { ss.bar.DialNumber(n) }, pop,
			vm.WithCallbacksLogger(s.log), vm.WithReminder(notify)),
		customer: vm.NewCustomerVM(crm, pop, vm.WithCustomerLogger(s.log)),
		win:      s.win,
	}
}

// showBar builds the session's widgets (again after a language change).
func (s *Shell) showBar(ss *session) {
	if ss.pop != nil {
		ss.pop.popup.Hide()
	}
	ss.view = newPhoneBarView(ss.bar, ss.parts, func() *fyne.Menu { return s.menu(ss) }, s.win.Canvas)
	s.win.SetTitle(fmt.Sprintf("%s — %s", lang.L("AgentPhone"), ss.sess.Login.Agent.WorkNumber))
	s.win.SetContent(ss.view.content)
	keyboardDTMF(s.win.Canvas(), ss.bar)
	ss.pop = newIncomingPop(ss.bar, ss.parts.pop, s.win.Canvas(), ss.view.header)
	ss.view.onResize = ss.pop.fit
	// Tall enough for a call in progress (call info, customer card, DTMF
	// and a message line appear then), so the window does not jump when
	// a call starts.
	// Never past maxBarHeight: the bar must fit on a 768 px screen.
	h := ss.view.content.MinSize().Height
	h = max(h, min(h+9*theme.TextSize(), maxBarHeight))
	s.win.Resize(fyne.NewSize(400, h))
	if wv := ss.view.work; wv != nil {
		// The customer card and notes open beside the bar: the window
		// widens for them and narrows again when they close.
		wv.onSide = func(on bool) {
			width, height := float32(400), max(h, s.win.Canvas().Size().Height)
			if on {
				width += sideWidth
				// The bar in a call is compact (the dial pad folds
				// away), but the card's history and the notes read
				// better tall, and the transfer dialog wants its height.
				height = max(height, sideHeight)
			}
			s.win.Resize(fyne.NewSize(width, height))
		}
	}
}

// menu is the ☰ menu: the agent's groups, the call mode, audio, language,
// logging out. Built when opened, so the groups are current.
func (s *Shell) menu(ss *session) *fyne.Menu {
	var groups []*fyne.MenuItem
	for _, g := range ss.parts.status.Groups() {
		it := fyne.NewMenuItem(g.Label+" — "+g.Text, nil)
		it.Disabled = true
		groups = append(groups, it)
	}
	if len(groups) == 0 {
		it := fyne.NewMenuItem(lang.L("You are in no skill group"), nil)
		it.Disabled = true
		groups = append(groups, it)
	}
	groupsItem := fyne.NewMenuItem(lang.L("Skill groups"), nil)
	groupsItem.ChildMenu = fyne.NewMenu("", groups...)

	voip := fyne.NewMenuItem(lang.L("VoIP (computer audio)"), func() {})
	voip.Checked = true
	callback := fyne.NewMenuItem(lang.L("PSTN callback (not available yet)"), nil)
	callback.Disabled = true
	desk := fyne.NewMenuItem(lang.L("Desk phone (not available yet)"), nil)
	desk.Disabled = true
	mode := fyne.NewMenuItem(lang.L("Call mode"), nil)
	mode.ChildMenu = fyne.NewMenu("", voip, callback, desk)

	return fyne.NewMenu("",
		groupsItem,
		mode,
		fyne.NewMenuItem(lang.L("Audio settings…"), s.showAudio),
		s.languageMenu(),
		fyne.NewMenuItemSeparator(),
		fyne.NewMenuItem(lang.L("Log out"), func() { s.logout(false) }),
		fyne.NewMenuItem(lang.L("Reset login"), func() { s.logout(true) }),
	)
}

// languageMenu switches the UI language; the choice is kept.
func (s *Shell) languageMenu() *fyne.MenuItem {
	cur := s.cfg.App.Preferences().String(prefLanguage)
	var items []*fyne.MenuItem
	for _, l := range []struct{ tag, label string }{
		{"", lang.L("System language")},
		{"en", "English"},
		{"zh-CN", "简体中文"},
	} {
		it := fyne.NewMenuItem(l.label, func() { s.setLanguage(l.tag) })
		it.Checked = cur == l.tag
		items = append(items, it)
	}
	m := fyne.NewMenuItem(lang.L("Language"), nil)
	m.ChildMenu = fyne.NewMenu("", items...)
	return m
}

// setLanguage switches the language now and for later runs, and builds
// the window again in it. Main goroutine only.
func (s *Shell) setLanguage(tag string) {
	s.cfg.App.Preferences().SetString(prefLanguage, tag)
	if err := UseLanguage(tag); err != nil {
		s.log.Warn("language", "err", err)
		return
	}
	if ss := s.session; ss != nil {
		s.showBar(ss)
		ss.bar.Tick() // the view-models' texts follow on their next render
		return
	}
	s.showLogin()
}

// notify raises a desktop notification unless the window is in front,
// where the pop already shows it. Main goroutine only.
func (s *Shell) notify(title, body string) {
	if s.foreground {
		return
	}
	s.cfg.App.SendNotification(fyne.NewNotification(title, body))
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
	ss.parts.status.Close()
	ss.parts.history.Close()
	if w := ss.parts.work; w != nil {
		w.incall.Close()
		w.notes.Close()
		w.callbacks.Close()
		w.customer.Close()
	}
	ss.stop()
}
