package vm

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2/data/binding"
	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// MaxNotes is how many of a customer's notes the panel shows (SPEC §5).
const MaxNotes = 10

// NoteRow is one note of the panel.
type NoteRow struct {
	ID     int64
	Author string // "1002 Han Meimei"
	When   string // "14:02", "03-01 14:02"; "(edited)" appended when it was
	Text   string
	// Editable: the agent wrote it. Others' notes are read-only.
	Editable bool
}

// NotesVM is the notes panel (通话备注) beside the call: the customer's 10
// most recent notes newest first and a box to add or edit one's own. The
// box opens when a call is answered and stays open after the call until
// the agent closes it; the server refuses to open the next call's box
// while the previous one is open, and the panel offers to close it.
type NotesVM struct {
	Visible  binding.Bool   // the box is open
	Customer binding.String // whose notes
	Rows     binding.UntypedList
	Draft    binding.String // the text box
	Editing  binding.Bool   // the box edits an existing note
	CanSave  binding.Bool
	Message  binding.String // a refusal or failure, "" when none
	// ClosePrevious is set when the server refused the new call's box
	// because the previous call's is open: the panel shows a button.
	ClosePrevious binding.Bool

	backend CRM
	calls   *PopVM
	log     *slog.Logger
	now     func() time.Time
	loc     *time.Location

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	open    string // call id whose box is open, "" when closed
	pending string // call id waiting for the previous box to close
	tried   string // last call id we asked to open, so each call asks once
	notes   []api.Note
	editing int64
}

// NotesOption configures a NotesVM.
type NotesOption func(*NotesVM)

// WithNotesClock replaces time.Now; loc is the zone times are shown in.
func WithNotesClock(now func() time.Time, loc *time.Location) NotesOption {
	return func(m *NotesVM) { m.now, m.loc = now, loc }
}

// WithNotesLogger sets the logger.
func WithNotesLogger(l *slog.Logger) NotesOption { return func(m *NotesVM) { m.log = l } }

// NewNotesVM makes the panel for the calls the screen pop follows.
func NewNotesVM(b CRM, calls *PopVM, opts ...NotesOption) *NotesVM {
	m := &NotesVM{
		Visible: binding.NewBool(), Customer: binding.NewString(), Rows: binding.NewUntypedList(),
		Draft: binding.NewString(), Editing: binding.NewBool(), CanSave: binding.NewBool(),
		Message: binding.NewString(), ClosePrevious: binding.NewBool(),
		backend: b, calls: calls, log: slog.New(slog.DiscardHandler), now: time.Now, loc: time.Local,
	}
	for _, o := range opts {
		o(m)
	}
	m.ctx, m.cancel = context.WithCancel(context.Background())
	return m
}

// closeTimeout bounds closing the box when the panel goes away (logout,
// quitting): the app must not hang on an unreachable server.
const closeTimeout = 3 * time.Second

// Close cancels requests in flight, waits for them, and closes the box the
// panel has open. The server keeps one open box per agent across
// sessions: a box left open at logout would refuse every note box of the
// agent's next session, with nothing in that session able to close it.
func (m *NotesVM) Close() {
	m.cancel()
	m.wg.Wait()
	m.mu.Lock()
	id := m.open
	m.open = ""
	m.mu.Unlock()
	if id == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	if _, err := m.backend.CloseNotes(ctx, id); err != nil {
		m.log.Warn("close the note box on the way out", "call", id, "err", err)
	}
}

// Wait waits for requests in flight (tests).
func (m *NotesVM) Wait() { m.wg.Wait() }

func (m *NotesVM) goCmd(f func(ctx context.Context)) {
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f(m.ctx)
	}()
}

// HandleCall opens the box of a call once it is answered (the server only
// takes notes from an agent who answered).
func (m *NotesVM) HandleCall(ev PhoneEvent) {
	if ev.Kind == EventCall && ev.State == CallActive {
		m.maybeOpen()
	}
}

// HandleServer opens the box when the call's server id arrives after the
// answer (our own outbound calls).
func (m *NotesVM) HandleServer(ev api.Event) {
	if ev.Type == api.EventCall {
		m.maybeOpen()
	}
}

// Tick is part of the bar's parts; the panel has no timers.
func (m *NotesVM) Tick() {}

func (m *NotesVM) maybeOpen() {
	id, _, _, stage := m.calls.Current()
	m.mu.Lock()
	if stage != PopTalking || id == "" || id == m.tried || id == m.open {
		m.mu.Unlock()
		return
	}
	m.tried = id
	m.mu.Unlock()
	m.goCmd(func(ctx context.Context) { m.openBox(ctx, id) })
}

// openBox asks the server to open the box of call id.
func (m *NotesVM) openBox(ctx context.Context, id string) {
	box, err := m.backend.OpenNotes(ctx, id)
	m.mu.Lock()
	defer m.mu.Unlock()
	var re *RefusedError
	switch {
	case errors.As(err, &re) && re.Code == api.CodeNoteBoxOpen:
		m.pending = id
		_ = m.Message.Set(failure(lang.L("Open notes"), err))
		// Only a box this panel opened can be closed from here.
		_ = m.ClosePrevious.Set(m.open != "")
		return
	case err != nil:
		m.log.Info("open notes", "err", err)
		_ = m.Message.Set(failure(lang.L("Open notes"), err))
		return
	}
	m.open, m.pending, m.editing = box.CallID, "", 0
	if m.open == "" {
		m.open = id
	}
	m.notes = box.Notes
	_ = m.Customer.Set(box.Customer)
	_ = m.Draft.Set("")
	_ = m.Message.Set("")
	_ = m.ClosePrevious.Set(false)
	m.render()
}

// CloseBox closes the open box; a call waiting for it gets its own.
func (m *NotesVM) CloseBox() {
	m.mu.Lock()
	id, next := m.open, m.pending
	m.mu.Unlock()
	if id == "" {
		return
	}
	m.goCmd(func(ctx context.Context) {
		if _, err := m.backend.CloseNotes(ctx, id); err != nil {
			m.log.Info("close notes", "err", err)
			_ = m.Message.Set(failure(lang.L("Close notes"), err))
			return
		}
		m.mu.Lock()
		if m.open == id {
			m.open, m.notes, m.editing = "", nil, 0
			_ = m.Draft.Set("")
			_ = m.Message.Set("")
			_ = m.ClosePrevious.Set(false)
			m.render()
		}
		m.mu.Unlock()
		if next != "" {
			m.openBox(ctx, next)
		}
	})
}

// Edit puts one of the agent's own notes in the box.
func (m *NotesVM) Edit(r NoteRow) {
	if !r.Editable {
		return
	}
	m.mu.Lock()
	m.editing = r.ID
	m.mu.Unlock()
	_ = m.Draft.Set(r.Text)
	_ = m.Editing.Set(true)
	m.renderCanSave()
}

// CancelEdit empties the box and goes back to adding.
func (m *NotesVM) CancelEdit() {
	m.mu.Lock()
	m.editing = 0
	m.mu.Unlock()
	_ = m.Draft.Set("")
	_ = m.Editing.Set(false)
	m.renderCanSave()
}

// SetDraft is the text box's change handler.
func (m *NotesVM) SetDraft(s string) {
	_ = m.Draft.Set(s)
	m.renderCanSave()
}

// Save adds the draft as a note of the open box's call, or saves the edit.
func (m *NotesVM) Save() {
	text, _ := m.Draft.Get()
	text = strings.TrimSpace(text)
	m.mu.Lock()
	id, editing := m.open, m.editing
	m.mu.Unlock()
	if text == "" || id == "" {
		return
	}
	m.goCmd(func(ctx context.Context) {
		var n api.Note
		var err error
		if editing != 0 {
			n, err = m.backend.EditNote(ctx, editing, text)
		} else {
			n, err = m.backend.AddNote(ctx, id, text)
		}
		if err != nil {
			m.log.Info("save note", "err", err)
			_ = m.Message.Set(failureAbout(lang.L("Save note"), subject{}, lang.L("The note box of this call is closed"), err))
			return
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		m.put(n)
		m.editing = 0
		_ = m.Draft.Set("")
		_ = m.Editing.Set(false)
		_ = m.Message.Set("")
		m.render()
	})
}

// put replaces or adds n, newest first, at most MaxNotes. Call with mu held.
func (m *NotesVM) put(n api.Note) {
	out := []api.Note{n}
	for _, o := range m.notes {
		if o.ID != n.ID {
			out = append(out, o)
		}
	}
	// An edit keeps its place: order by creation, newest first.
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j].CreatedAt.After(out[j-1].CreatedAt); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	if len(out) > MaxNotes {
		out = out[:MaxNotes]
	}
	m.notes = out
}

func (m *NotesVM) renderCanSave() {
	d, _ := m.Draft.Get()
	m.mu.Lock()
	open := m.open != ""
	m.mu.Unlock()
	_ = m.CanSave.Set(open && strings.TrimSpace(d) != "")
}

// render writes the rows. Call with mu held.
func (m *NotesVM) render() {
	now := m.now()
	rows := make([]any, 0, len(m.notes))
	for _, n := range m.notes {
		when := ShortTime(n.CreatedAt, now, m.loc)
		if !n.UpdatedAt.IsZero() {
			when = lang.L("{{.Time}} (edited)", map[string]any{"Time": when})
		}
		rows = append(rows, NoteRow{ID: n.ID, Author: agentLabel(n.Agent, n.AgentName), When: when, Text: n.Text, Editable: n.Editable})
	}
	_ = m.Rows.Set(rows)
	_ = m.Visible.Set(m.open != "")
	d, _ := m.Draft.Get()
	_ = m.CanSave.Set(m.open != "" && strings.TrimSpace(d) != "")
}
