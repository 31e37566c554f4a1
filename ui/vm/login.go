package vm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"
	"github.com/zalando/go-keyring"

	"github.com/agentphone/agentphone/callcenter/api"
)

// DefaultServer is the server URL offered on first start.
const DefaultServer = "http://127.0.0.1:8080"

// Preference keys. Only non-secret values go into preferences; the password
// lives in the keyring or nowhere.
const (
	prefServer     = "login.server"
	prefWorkNumber = "login.work_number"
	prefRemember   = "login.remember"
)

// Session is a successful login: the backend it was made with and what the
// server returned (token, agent, SIP account).
type Session struct {
	Server  string
	Backend Backend
	Login   api.LoginResponse
}

// LoginVM is the state of the login window.
type LoginVM struct {
	WorkNumber binding.String
	Password   binding.String
	Server     binding.String
	Remember   binding.Bool
	// Busy is true while a login is in flight (the button shows progress).
	Busy binding.Bool
	// Error is why the last login failed, "" when it did not.
	Error binding.String
	// Notice is a warning that did not stop the login (keyring trouble).
	Notice binding.String

	prefs   fyne.Preferences
	connect Connector
	keys    Keyring
	log     *slog.Logger
	device  string

	mu       sync.Mutex
	inFlight bool
}

// LoginOption configures a LoginVM.
type LoginOption func(*LoginVM)

// WithKeyring replaces the OS keyring.
func WithKeyring(k Keyring) LoginOption { return func(m *LoginVM) { m.keys = k } }

// WithLoginLogger sets the logger.
func WithLoginLogger(l *slog.Logger) LoginOption { return func(m *LoginVM) { m.log = l } }

// WithDevice names this client to the server ("pc" by default).
func WithDevice(d string) LoginOption { return func(m *LoginVM) { m.device = d } }

// NewLoginVM fills the form from preferences and, where the agent asked for
// it, the password from the keyring.
func NewLoginVM(prefs fyne.Preferences, connect Connector, opts ...LoginOption) *LoginVM {
	m := &LoginVM{
		WorkNumber: binding.NewString(),
		Password:   binding.NewString(),
		Server:     binding.NewString(),
		Remember:   binding.NewBool(),
		Busy:       binding.NewBool(),
		Error:      binding.NewString(),
		Notice:     binding.NewString(),
		prefs:      prefs,
		connect:    connect,
		keys:       DefaultKeyring{},
		log:        slog.New(slog.DiscardHandler),
		device:     "pc",
	}
	for _, o := range opts {
		o(m)
	}
	server := prefs.StringWithFallback(prefServer, DefaultServer)
	work := prefs.String(prefWorkNumber)
	remember := prefs.Bool(prefRemember)
	_ = m.Server.Set(server)
	_ = m.WorkNumber.Set(work)
	_ = m.Remember.Set(remember)
	if remember && work != "" {
		pw, err := m.keys.Get(KeyringService, KeyringUser(server, work))
		switch {
		case err == nil:
			_ = m.Password.Set(pw)
		case errors.Is(err, keyring.ErrNotFound):
		default:
			m.log.Warn("read saved password", "err", err)
			_ = m.Notice.Set(lang.L("The system keyring is locked or unavailable; the saved password could not be read"))
		}
	}
	return m
}

// Submit logs in with the form's values. It blocks for the network round trip,
// so the UI calls it off the main goroutine. On failure Error says why in
// words for the agent and the returned error wraps the cause.
func (m *LoginVM) Submit(ctx context.Context) (Session, error) {
	m.mu.Lock()
	if m.inFlight {
		m.mu.Unlock()
		return Session{}, ErrBusy
	}
	m.inFlight = true
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		m.inFlight = false
		m.mu.Unlock()
		_ = m.Busy.Set(false)
	}()
	_ = m.Busy.Set(true)
	_ = m.Error.Set("")
	_ = m.Notice.Set("")

	work, _ := m.WorkNumber.Get()
	pw, _ := m.Password.Get()
	server, _ := m.Server.Get()
	remember, _ := m.Remember.Get()
	work = strings.TrimSpace(work)
	server = strings.TrimRight(strings.TrimSpace(server), "/")

	if work == "" || pw == "" {
		_ = m.Error.Set(lang.L("Enter your work number and password"))
		return Session{}, ErrMissingFields
	}
	if u, err := url.Parse(server); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		_ = m.Error.Set(lang.L("The server address must look like http://host:port"))
		return Session{}, fmt.Errorf("server %q: %w", server, ErrBadServer)
	}
	backend, err := m.connect(server)
	if err != nil {
		_ = m.Error.Set(m.message(err, server))
		return Session{}, fmt.Errorf("connect %s: %w", server, err)
	}
	resp, err := backend.Login(ctx, work, pw, m.device)
	if err != nil {
		_ = m.Error.Set(m.message(err, server))
		return Session{}, fmt.Errorf("login %s at %s: %w", work, server, err)
	}

	// The login worked: remember what the agent typed. The password goes to
	// the keyring only; a keyring failure is reported but does not undo the login.
	wasRemembered := m.prefs.Bool(prefRemember)
	m.prefs.SetString(prefServer, server)
	m.prefs.SetString(prefWorkNumber, work)
	m.prefs.SetBool(prefRemember, remember)
	user := KeyringUser(server, work)
	if remember {
		if err := m.keys.Set(KeyringService, user, pw); err != nil {
			m.log.Warn("save password", "err", err)
			_ = m.Notice.Set(lang.L("The system keyring is locked or unavailable; the password was not saved"))
		}
	} else if !wasRemembered {
		// Nothing was saved: leave the keyring alone, as touching it can
		// make the desktop ask the agent to unlock it.
	} else if err := m.keys.Delete(KeyringService, user); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		m.log.Warn("forget password", "err", err)
	}
	return Session{Server: server, Backend: backend, Login: resp}, nil
}

// message turns a login error into words for the agent.
func (m *LoginVM) message(err error, server string) string {
	switch {
	case errors.Is(err, ErrBadCredentials):
		return lang.L("Wrong work number or password")
	case errors.Is(err, ErrDisabled):
		return lang.L("This account is disabled; ask your administrator")
	case errors.Is(err, ErrUnreachable):
		return lang.L("Cannot reach the server at {{.Server}}", map[string]any{"Server": server})
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return lang.L("Cannot reach the server at {{.Server}}", map[string]any{"Server": server})
	}
	return lang.L("Login failed: {{.Error}}", map[string]any{"Error": err.Error()})
}

// Forget removes the saved password of the account in the form and turns
// "remember password" off ("reset login" in the menu).
func (m *LoginVM) Forget() {
	work, _ := m.WorkNumber.Get()
	server, _ := m.Server.Get()
	if err := m.keys.Delete(KeyringService, KeyringUser(strings.TrimRight(server, "/"), strings.TrimSpace(work))); err != nil && !errors.Is(err, keyring.ErrNotFound) {
		m.log.Warn("forget password", "err", err)
	}
	m.prefs.SetBool(prefRemember, false)
	_ = m.Remember.Set(false)
	_ = m.Password.Set("")
}
