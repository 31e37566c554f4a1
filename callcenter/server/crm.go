package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/api"
	"github.com/agentphone/agentphone/callcenter/crm"
)

// The in-call work endpoints (issue 4): notes, scheduled callbacks and the
// customer library, listed in callcenter/api/incall.go. The rules are
// callcenter/crm's; this file maps them onto HTTP and pushes the callback
// events.

// WithCRM enables the notes, callbacks and customer endpoints on c.
// Without it they answer 404. Pass the server to c as its crm.Sink (or a
// Forwarder set to it) for the callback_due and callback_done events.
func WithCRM(c *crm.Service) Option { return func(s *Server) { s.crm = c } }

const noCRMMessage = "notes, callbacks and customers are not enabled on this server"

// Limits of the customer search query.
const maxSearchQuery = 64

func (s *Server) crmRoutes(handle func(method, path string, h http.HandlerFunc)) {
	v := api.Version
	handle(http.MethodPost, v+"/calls/{id}/notes/open", s.crmHandler(s.handleOpenNotes))
	handle(http.MethodPost, v+"/calls/{id}/notes/close", s.crmHandler(s.handleCloseNotes))
	handle(http.MethodPost, v+"/calls/{id}/notes", s.crmHandler(s.handleAddNote))
	handle(http.MethodPut, v+"/notes/{id}", s.crmHandler(s.handleEditNote))
	handle(http.MethodGet, v+"/notes", s.crmHandler(s.handleNotes))
	handle(http.MethodGet, v+"/callbacks", s.crmHandler(s.handleCallbacks))
	handle(http.MethodPost, v+"/callbacks", s.crmHandler(s.handleCreateCallback))
	handle(http.MethodPut, v+"/callbacks/{id}", s.crmHandler(s.handleUpdateCallback))
	handle(http.MethodDelete, v+"/callbacks/{id}", s.crmHandler(s.handleDeleteCallback))
	handle(http.MethodGet, v+"/customers", s.crmHandler(s.handleCustomers))
	handle(http.MethodPost, v+"/customers", s.crmHandler(s.handleCreateCustomer))
	handle(http.MethodGet, v+"/customers/{id}", s.crmHandler(s.handleCustomer))
	handle(http.MethodPut, v+"/customers/{id}", s.crmHandler(s.handleUpdateCustomer))
	handle(http.MethodGet, v+"/customers/by-number/{number}", s.crmHandler(s.handleCustomerByNumber))
	handle(http.MethodPost, v+"/calls/{id}/customer", s.crmHandler(s.handleAddCaller))
}

// crmHandler wraps an authenticated handler that needs the CRM service.
func (s *Server) crmHandler(h authedFunc) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, id identity) {
		if s.crm == nil {
			writeError(w, http.StatusNotFound, api.CodeNotFound, noCRMMessage)
			return
		}
		h(w, r, id)
	})
}

// refusalCodes maps the service's refusals onto the API's codes.
var refusalCodes = map[crm.Reason]string{
	crm.ReasonNoteBoxOpen:     api.CodeNoteBoxOpen,
	crm.ReasonNoteBoxClosed:   api.CodeBadState,
	crm.ReasonNoteReadOnly:    api.CodeNoteReadOnly,
	crm.ReasonNotAnsweredYet:  api.CodeNotAnsweredYet,
	crm.ReasonNotInCall:       api.CodeNotInCall,
	crm.ReasonCallbackInvalid: api.CodeCallbackInvalid,
	crm.ReasonCallbackDone:    api.CodeBadState,
}

// writeCRMError answers an error of the CRM service: its refusals are 409
// with their api.Code* (editing another agent's customer is 403), a taken
// number 409 exists, bad input 400, a missing note, callback or customer
// 404.
func writeCRMError(w http.ResponseWriter, what string, err error) {
	var re *crm.RefusedError
	switch {
	case errors.As(err, &re) && re.Reason == crm.ReasonNotOwner:
		writeError(w, http.StatusForbidden, api.CodeForbidden, re.Message)
	case errors.As(err, &re):
		code, ok := refusalCodes[re.Reason]
		if !ok {
			code = api.CodeBadState
		}
		writeError(w, http.StatusConflict, code, re.Message)
	case errors.Is(err, callcenter.ErrExists):
		writeError(w, http.StatusConflict, api.CodeExists, "already in your customers: "+err.Error())
	case errors.Is(err, callcenter.ErrInvalid):
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
	case errors.Is(err, callcenter.ErrNotFound):
		writeError(w, http.StatusNotFound, api.CodeNotFound, err.Error())
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		writeError(w, http.StatusServiceUnavailable, api.CodeInternal, what+": "+err.Error())
	default:
		writeInternal(w, fmt.Errorf("%s: %w", what, err))
	}
}

// pathID reads a positive integer id from the path.
func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, fmt.Errorf("id: want a positive integer, got %q", v)
	}
	return id, nil
}

// ---- notes

// authorNames looks up authors' names once per request.
type authorNames struct {
	s     *Server
	ctx   context.Context
	names map[string]string
}

func (a *authorNames) name(wn string) string {
	if n, ok := a.names[wn]; ok {
		return n
	}
	n := ""
	if ag, err := a.s.store.AgentByWorkNumber(a.ctx, wn); err == nil {
		n = ag.Name
	}
	a.names[wn] = n
	return n
}

func (s *Server) wireNotes(ctx context.Context, agent string, ns []callcenter.Note) []api.Note {
	names := &authorNames{s: s, ctx: ctx, names: map[string]string{}}
	out := make([]api.Note, len(ns))
	for i, n := range ns {
		out[i] = wireNote(n, agent, names)
	}
	return out
}

func wireNote(n callcenter.Note, agent string, names *authorNames) api.Note {
	return api.Note{ID: n.ID, CallID: n.CallID, Customer: n.Customer, Agent: n.Agent, AgentName: names.name(n.Agent),
		Text: n.Text, CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, Editable: n.Agent == agent}
}

func (s *Server) answerBox(w http.ResponseWriter, r *http.Request, id identity, b crm.NoteBox, err error) {
	if err != nil {
		writeCRMError(w, "note box", err)
		return
	}
	writeJSON(w, http.StatusOK, api.NoteBox{CallID: b.CallID, Open: b.Open, Customer: b.Customer,
		Notes: s.wireNotes(r.Context(), id.agent.WorkNumber, b.Notes)})
}

func (s *Server) handleOpenNotes(w http.ResponseWriter, r *http.Request, id identity) {
	b, err := s.crm.OpenNotes(r.Context(), id.agent.WorkNumber, r.PathValue("id"))
	s.answerBox(w, r, id, b, err)
}

func (s *Server) handleCloseNotes(w http.ResponseWriter, r *http.Request, id identity) {
	b, err := s.crm.CloseNotes(r.Context(), id.agent.WorkNumber, r.PathValue("id"))
	s.answerBox(w, r, id, b, err)
}

func (s *Server) handleAddNote(w http.ResponseWriter, r *http.Request, id identity) {
	var in api.NoteInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	n, err := s.crm.AddNote(r.Context(), id.agent.WorkNumber, r.PathValue("id"), in.Text)
	if err != nil {
		writeCRMError(w, "add note", err)
		return
	}
	writeJSON(w, http.StatusCreated, s.wireNotes(r.Context(), id.agent.WorkNumber, []callcenter.Note{n})[0])
}

func (s *Server) handleEditNote(w http.ResponseWriter, r *http.Request, id identity) {
	nid, err := pathID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	var in api.NoteInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	n, err := s.crm.EditNote(r.Context(), id.agent.WorkNumber, nid, in.Text)
	if err != nil {
		writeCRMError(w, "edit note", err)
		return
	}
	writeJSON(w, http.StatusOK, s.wireNotes(r.Context(), id.agent.WorkNumber, []callcenter.Note{n})[0])
}

func (s *Server) handleNotes(w http.ResponseWriter, r *http.Request, id identity) {
	c := r.URL.Query().Get("customer")
	if c == "" {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, "customer: the customer's number is required")
		return
	}
	ns, err := s.crm.Notes(r.Context(), c)
	if err != nil {
		writeCRMError(w, "notes", err)
		return
	}
	writeJSON(w, http.StatusOK, s.wireNotes(r.Context(), id.agent.WorkNumber, ns))
}

// ---- callbacks

func (s *Server) wireCallback(ctx context.Context, agent string, cb callcenter.Callback) api.Callback {
	return api.Callback{ID: cb.ID, Agent: cb.Agent, Number: cb.Number, Name: s.crm.CustomerName(ctx, agent, cb.Number),
		CallID: cb.CallID, DueAt: cb.DueAt, Remark: cb.Remark, State: cb.State.String(), DoneCall: cb.DoneCall,
		CreatedAt: cb.CreatedAt}
}

// parseDay reads day=YYYY-MM-DD; empty is zero (today).
func parseDay(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("day: want a date like 2006-01-02, got %q", v)
	}
	return d, nil
}

func (s *Server) handleCallbacks(w http.ResponseWriter, r *http.Request, id identity) {
	day, err := parseDay(r.URL.Query().Get("day"))
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	if day.IsZero() {
		day = s.crm.Today()
	}
	cbs, err := s.crm.Callbacks(r.Context(), id.agent.WorkNumber, day)
	if err != nil {
		writeCRMError(w, "callbacks", err)
		return
	}
	out := make([]api.Callback, len(cbs))
	for i, cb := range cbs {
		out[i] = s.wireCallback(r.Context(), id.agent.WorkNumber, cb)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateCallback(w http.ResponseWriter, r *http.Request, id identity) {
	var in api.CallbackInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	cb, err := s.crm.CreateCallback(r.Context(), id.agent.WorkNumber, crm.CallbackInput(in))
	if err != nil {
		writeCRMError(w, "create callback", err)
		return
	}
	writeJSON(w, http.StatusCreated, s.wireCallback(r.Context(), id.agent.WorkNumber, cb))
}

func (s *Server) handleUpdateCallback(w http.ResponseWriter, r *http.Request, id identity) {
	cid, err := pathID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	var in api.CallbackInput
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	cb, err := s.crm.UpdateCallback(r.Context(), id.agent.WorkNumber, cid, crm.CallbackInput(in))
	if err != nil {
		writeCRMError(w, "reschedule callback", err)
		return
	}
	writeJSON(w, http.StatusOK, s.wireCallback(r.Context(), id.agent.WorkNumber, cb))
}

func (s *Server) handleDeleteCallback(w http.ResponseWriter, r *http.Request, id identity) {
	cid, err := pathID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	if err := s.crm.DeleteCallback(r.Context(), id.agent.WorkNumber, cid); err != nil {
		writeCRMError(w, "delete callback", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// CallbackDue pushes a callback's due reminder to its agent
// (api.EventCallbackDue). It implements crm.Sink with CallbackDone.
func (s *Server) CallbackDue(agent string, cb callcenter.Callback) {
	s.pushCallback(agent, api.EventCallbackDue, cb)
}

// CallbackDone pushes a callback that became done or expired
// (api.EventCallbackDone).
func (s *Server) CallbackDone(agent string, cb callcenter.Callback) {
	s.pushCallback(agent, api.EventCallbackDone, cb)
}

// nameLookup bounds the customer-name lookup of a pushed callback.
const nameLookup = 2 * time.Second

func (s *Server) pushCallback(agent, typ string, cb callcenter.Callback) {
	w := api.Callback{ID: cb.ID, Agent: cb.Agent, Number: cb.Number, CallID: cb.CallID, DueAt: cb.DueAt,
		Remark: cb.Remark, State: cb.State.String(), DoneCall: cb.DoneCall, CreatedAt: cb.CreatedAt}
	if s.crm != nil {
		// Looked up before the hub's lock: a store read must not hold it.
		ctx, cancel := context.WithTimeout(context.Background(), nameLookup)
		w.Name = s.crm.CustomerName(ctx, agent, cb.Number)
		cancel()
	}
	h := s.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	h.pushLocked(agent, mustEvent(typ, s.clock(), w))
}

// CallbackDue passes the reminder on to the server once it is set.
func (f *Forwarder) CallbackDue(agent string, cb callcenter.Callback) {
	if s := f.s.Load(); s != nil {
		s.CallbackDue(agent, cb)
	}
}

// CallbackDone passes the event on to the server once it is set.
func (f *Forwarder) CallbackDone(agent string, cb callcenter.Callback) {
	if s := f.s.Load(); s != nil {
		s.CallbackDone(agent, cb)
	}
}

// ---- customers

func wireCustomer(c callcenter.Customer) api.Customer {
	return api.Customer{ID: c.ID, Name: c.Name, Numbers: c.Numbers, Company: c.Company, Tags: c.Tags,
		Fields: c.Fields, Owner: c.Owner, Created: c.CreatedAt, Updated: c.UpdatedAt}
}

func domainCustomer(c api.Customer) callcenter.Customer {
	return callcenter.Customer{Name: c.Name, Numbers: c.Numbers, Company: c.Company, Tags: c.Tags,
		Fields: c.Fields, Owner: c.Owner}
}

func (s *Server) wireCard(ctx context.Context, agent string, c crm.Card) api.CustomerCard {
	out := api.CustomerCard{Customer: wireCustomer(c.Customer), Calls: make([]api.CallRecord, len(c.Calls)),
		Notes: s.wireNotes(ctx, agent, c.Notes), Callbacks: make([]api.Callback, len(c.Callbacks))}
	for i, r := range c.Calls {
		out.Calls[i] = wireRecord(r)
	}
	for i, cb := range c.Callbacks {
		out.Callbacks[i] = s.wireCallback(ctx, agent, cb)
		out.Callbacks[i].Name = c.Customer.Name // it is this customer, whoever else has the number
	}
	return out
}

func (s *Server) handleCustomers(w http.ResponseWriter, r *http.Request, id identity) {
	q := r.URL.Query()
	text := q.Get("q")
	if len([]rune(text)) > maxSearchQuery {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, fmt.Sprintf("q: longer than %d characters", maxSearchQuery))
		return
	}
	mine := false
	if v := q.Get("mine"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			writeError(w, http.StatusBadRequest, api.CodeBadRequest, fmt.Sprintf("mine: want 1, 0, true or false, got %q", v))
			return
		}
		mine = b
	}
	cs, err := s.crm.SearchCustomers(r.Context(), id.agent.WorkNumber, text, mine)
	if err != nil {
		writeCRMError(w, "search customers", err)
		return
	}
	out := make([]api.Customer, len(cs))
	for i, c := range cs {
		out[i] = wireCustomer(c)
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) handleCreateCustomer(w http.ResponseWriter, r *http.Request, id identity) {
	var in api.Customer
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	c, err := s.crm.CreateCustomer(r.Context(), id.agent.WorkNumber, domainCustomer(in))
	if err != nil {
		writeCRMError(w, "create customer", err)
		return
	}
	writeJSON(w, http.StatusCreated, wireCustomer(c))
}

func (s *Server) handleAddCaller(w http.ResponseWriter, r *http.Request, id identity) {
	var in api.AddCaller
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	c, err := s.crm.AddCaller(r.Context(), id.agent.WorkNumber, r.PathValue("id"), in.Name)
	if err != nil {
		writeCRMError(w, "add caller to customers", err)
		return
	}
	writeJSON(w, http.StatusCreated, wireCustomer(c))
}

func (s *Server) handleCustomer(w http.ResponseWriter, r *http.Request, id identity) {
	cid, err := pathID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	card, err := s.crm.Card(r.Context(), cid)
	if err != nil {
		writeCRMError(w, "customer card", err)
		return
	}
	writeJSON(w, http.StatusOK, s.wireCard(r.Context(), id.agent.WorkNumber, card))
}

func (s *Server) handleUpdateCustomer(w http.ResponseWriter, r *http.Request, id identity) {
	cid, err := pathID(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	var in api.Customer
	if err := decodeJSON(w, r, &in); err != nil {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, err.Error())
		return
	}
	if in.ID != 0 && in.ID != cid {
		writeError(w, http.StatusBadRequest, api.CodeBadRequest, fmt.Sprintf("id: body says %d, path %d", in.ID, cid))
		return
	}
	who := crm.Actor{WorkNumber: id.agent.WorkNumber, Role: id.agent.Role}
	c, err := s.crm.UpdateCustomer(r.Context(), who, cid, domainCustomer(in))
	if err != nil {
		writeCRMError(w, "update customer", err)
		return
	}
	writeJSON(w, http.StatusOK, wireCustomer(c))
}

func (s *Server) handleCustomerByNumber(w http.ResponseWriter, r *http.Request, id identity) {
	card, err := s.crm.CardByNumber(r.Context(), id.agent.WorkNumber, r.PathValue("number"))
	if err != nil {
		writeCRMError(w, "customer by number", err)
		return
	}
	writeJSON(w, http.StatusOK, s.wireCard(r.Context(), id.agent.WorkNumber, card))
}
