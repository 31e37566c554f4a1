package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/agentphone/agentphone/callcenter"
)

// NoteBox is the note box of one call for one agent.
type NoteBox struct {
	CallID   string // the customer call's id
	Open     bool
	Customer string // the customer's number; "" when the call has none
	// Notes are the customer's NotesShown most recent notes, newest first
	// (the call's own notes when it has no customer number).
	Notes []callcenter.Note
}

// OpenNotes opens the note box of a call the agent is on (ringing,
// talking, or after it ended). An agent has at most one box open: opening
// another call's box while one is open is refused with
// ReasonNoteBoxOpen; opening the same one again is fine.
func (s *Service) OpenNotes(ctx context.Context, agent, callID string) (NoteBox, error) {
	v, err := s.involved(ctx, callID, agent)
	if err != nil {
		return NoteBox{}, fmt.Errorf("open notes of call %s: %w", callID, err)
	}
	s.mu.Lock()
	open := s.boxes[agent]
	if open == "" {
		s.boxes[agent] = v.id
	}
	s.mu.Unlock()
	if open != "" && open != v.id {
		return NoteBox{}, refuse(ReasonNoteBoxOpen, "close the previous call's note first (call %s)", open)
	}
	return s.box(ctx, v, true)
}

// CloseNotes closes the agent's note box of the call; closing a box that
// is not open is not an error.
func (s *Service) CloseNotes(ctx context.Context, agent, callID string) (NoteBox, error) {
	v, err := s.view(ctx, callID, agent)
	if err != nil {
		// A call the store never saw can still have had a box: close it.
		v = callView{id: callID}
	}
	s.mu.Lock()
	if s.boxes[agent] == v.id {
		delete(s.boxes, agent)
	}
	s.mu.Unlock()
	return s.box(ctx, v, false)
}

// CloseBoxes closes whatever note box the agent has open: a new login
// starts with none.
func (s *Service) CloseBoxes(agent string) {
	s.mu.Lock()
	delete(s.boxes, agent)
	s.mu.Unlock()
}

// OpenBox returns the call whose note box the agent has open, "" if none.
func (s *Service) OpenBox(agent string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.boxes[agent]
}

func (s *Service) box(ctx context.Context, v callView, open bool) (NoteBox, error) {
	b := NoteBox{CallID: v.id, Open: open, Customer: v.customer}
	f := callcenter.NoteFilter{CallID: v.id, Limit: NotesShown}
	if v.customer != "" {
		f = callcenter.NoteFilter{Customers: []string{v.customer}, Limit: NotesShown}
	}
	notes, err := s.st.Notes(ctx, f)
	if err != nil {
		return b, fmt.Errorf("notes of call %s: %w", v.id, err)
	}
	b.Notes = notes
	return b, nil
}

// AddNote adds a note to a call. The call's note box must be open
// (ReasonNoteBoxClosed, or ReasonNoteBoxOpen when another call's is) and
// the agent must have answered the call (ReasonNotAnsweredYet: a transfer
// still ringing). A blank or too long text is callcenter.ErrInvalid.
func (s *Service) AddNote(ctx context.Context, agent, callID, text string) (callcenter.Note, error) {
	what := fmt.Sprintf("add note to call %s", callID)
	v, err := s.involved(ctx, callID, agent)
	if err != nil {
		return callcenter.Note{}, fmt.Errorf("%s: %w", what, err)
	}
	switch open := s.OpenBox(agent); {
	case open == "":
		return callcenter.Note{}, refuse(ReasonNoteBoxClosed, "open the call's note box first")
	case open != v.id:
		return callcenter.Note{}, refuse(ReasonNoteBoxOpen, "close the previous call's note first (call %s)", open)
	}
	if !v.answered {
		return callcenter.Note{}, refuse(ReasonNotAnsweredYet, "you can add notes once you have answered the call")
	}
	n, err := s.st.AddNote(ctx, callcenter.Note{CallID: v.id, Customer: v.customer, Agent: agent, Text: text, CreatedAt: s.now()})
	if err != nil {
		return n, fmt.Errorf("%s: %w", what, err)
	}
	return n, nil
}

// EditNote replaces the text of the agent's own note; another agent's
// note is read only (ReasonNoteReadOnly).
func (s *Service) EditNote(ctx context.Context, agent string, id int64, text string) (callcenter.Note, error) {
	what := fmt.Sprintf("edit note %d", id)
	n, err := s.st.Note(ctx, id)
	if err != nil {
		return n, fmt.Errorf("%s: %w", what, err)
	}
	if n.Agent != agent {
		return n, refuse(ReasonNoteReadOnly, "this note is %s's: only its author can edit it", n.Agent)
	}
	out, err := s.st.EditNote(ctx, id, text, s.now())
	if err != nil {
		return n, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// Notes returns the NotesShown most recent notes about a customer number,
// newest first. Anyone may read them.
func (s *Service) Notes(ctx context.Context, customer string) ([]callcenter.Note, error) {
	n, err := NormalizeNumber(customer)
	if err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	notes, err := s.st.Notes(ctx, callcenter.NoteFilter{Customers: []string{n}, Limit: NotesShown})
	if err != nil {
		return nil, fmt.Errorf("notes of %s: %w", n, err)
	}
	return notes, nil
}

// CallNotes returns the notes of one customer call, oldest first: they are
// part of its record. A consult or transfer leg's id gives the notes of
// the customer call it was made from.
func (s *Service) CallNotes(ctx context.Context, callID string) ([]callcenter.Note, error) {
	id := callID
	rec, err := s.st.CallRecord(ctx, callID)
	switch {
	case err == nil && rec.ParentID != "":
		id = rec.ParentID
	case err != nil && !errors.Is(err, callcenter.ErrNotFound):
		return nil, fmt.Errorf("notes of call %s: %w", callID, err)
	}
	notes, err := s.st.Notes(ctx, callcenter.NoteFilter{CallID: id})
	if err != nil {
		return nil, fmt.Errorf("notes of call %s: %w", id, err)
	}
	slices.Reverse(notes)
	return notes, nil
}
