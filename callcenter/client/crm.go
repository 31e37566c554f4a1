package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/agentphone/agentphone/callcenter/api"
)

// In-call work (issue 4): call notes, scheduled callbacks and the customer
// library. A server without them answers 404 (ErrNotFound). Refusals by a
// rule (close the previous call's note first, another agent's note, not
// answered yet, a callback time in the past...) are ErrRefused with the
// api.Code* in the *Error's Code and the rule in its Message.

// crmRefusal makes a 409 refusal of the notes and callbacks rules match
// ErrRefused, whatever version of Error.Is this package has.
func crmRefusal(err error) error {
	var e *Error
	if !errors.As(err, &e) || e.Status != http.StatusConflict || errors.Is(err, ErrRefused) {
		return err
	}
	switch e.Code {
	case api.CodeNoteBoxOpen, api.CodeNoteReadOnly, api.CodeNotAnsweredYet, api.CodeNotInCall,
		api.CodeCallbackInvalid, api.CodeBadState:
		return fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return err
}

func (c *Client) crm(ctx context.Context, what, method, path string, in, out any) error {
	if err := c.do(ctx, method, path, c.Token(), in, out); err != nil {
		return fmt.Errorf("%s: %w", what, crmRefusal(err))
	}
	return nil
}

func callPath(callID, rest string) string { return "/calls/" + url.PathEscape(callID) + rest }

// OpenNotes opens the note box of a call and returns it with the
// customer's 10 most recent notes, newest first. Another call's box still
// open is ErrRefused (api.CodeNoteBoxOpen).
func (c *Client) OpenNotes(ctx context.Context, callID string) (api.NoteBox, error) {
	var out api.NoteBox
	err := c.crm(ctx, "open notes of call "+callID, http.MethodPost, callPath(callID, "/notes/open"), nil, &out)
	return out, err
}

// CloseNotes closes the note box of a call (closing a closed box is fine).
func (c *Client) CloseNotes(ctx context.Context, callID string) (api.NoteBox, error) {
	var out api.NoteBox
	err := c.crm(ctx, "close notes of call "+callID, http.MethodPost, callPath(callID, "/notes/close"), nil, &out)
	return out, err
}

// AddNote adds a note to a call whose note box is open; before the agent
// answered the call it is ErrRefused (api.CodeNotAnsweredYet).
func (c *Client) AddNote(ctx context.Context, callID, text string) (api.Note, error) {
	var out api.Note
	err := c.crm(ctx, "add note to call "+callID, http.MethodPost, callPath(callID, "/notes"), api.NoteInput{Text: text}, &out)
	return out, err
}

// EditNote replaces the text of the agent's own note; another agent's is
// ErrRefused (api.CodeNoteReadOnly).
func (c *Client) EditNote(ctx context.Context, id int64, text string) (api.Note, error) {
	var out api.Note
	err := c.crm(ctx, fmt.Sprintf("edit note %d", id), http.MethodPut, "/notes/"+strconv.FormatInt(id, 10), api.NoteInput{Text: text}, &out)
	return out, err
}

// Notes returns the 10 most recent notes about a customer number, newest
// first.
func (c *Client) Notes(ctx context.Context, customer string) ([]api.Note, error) {
	var out []api.Note
	err := c.crm(ctx, "notes of "+customer, http.MethodGet, "/notes?"+url.Values{"customer": {customer}}.Encode(), nil, &out)
	return out, err
}

// Callbacks returns the agent's callbacks due on day — its date as written
// in its own location, read as a day of the server's time zone — by due
// time. A zero day is the server's today.
func (c *Client) Callbacks(ctx context.Context, day time.Time) ([]api.Callback, error) {
	path := "/callbacks"
	if !day.IsZero() {
		path += "?day=" + day.Format(time.DateOnly)
	}
	var out []api.Callback
	err := c.crm(ctx, "callbacks", http.MethodGet, path, nil, &out)
	return out, err
}

// CreateCallback schedules a callback in a call (in.CallID: the number is
// the call's customer) or to in.Number. A due time not in the future or a
// bad number is ErrRefused (api.CodeCallbackInvalid).
func (c *Client) CreateCallback(ctx context.Context, in api.CallbackInput) (api.Callback, error) {
	var out api.Callback
	err := c.crm(ctx, "create callback", http.MethodPost, "/callbacks", in, &out)
	return out, err
}

// UpdateCallback reschedules a callback (new time, remark, and number if
// not empty); an expired one becomes pending again, a done one is
// ErrRefused (api.CodeBadState).
func (c *Client) UpdateCallback(ctx context.Context, id int64, in api.CallbackInput) (api.Callback, error) {
	var out api.Callback
	err := c.crm(ctx, fmt.Sprintf("reschedule callback %d", id), http.MethodPut, "/callbacks/"+strconv.FormatInt(id, 10), in, &out)
	return out, err
}

// DeleteCallback deletes one of the agent's callbacks.
func (c *Client) DeleteCallback(ctx context.Context, id int64) error {
	return c.crm(ctx, fmt.Sprintf("delete callback %d", id), http.MethodDelete, "/callbacks/"+strconv.FormatInt(id, 10), nil, nil)
}

// Customers searches the customer library by name substring or number
// prefix or suffix; only the agent's own customers when mine.
func (c *Client) Customers(ctx context.Context, q string, mine bool) ([]api.Customer, error) {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if mine {
		v.Set("mine", "1")
	}
	path := "/customers"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var out []api.Customer
	err := c.crm(ctx, "search customers", http.MethodGet, path, nil, &out)
	return out, err
}

// CreateCustomer adds a customer to the agent's library (the agent is its
// owner). A number the agent already has on a customer is ErrExists.
func (c *Client) CreateCustomer(ctx context.Context, cu api.Customer) (api.Customer, error) {
	var out api.Customer
	err := c.crm(ctx, "create customer", http.MethodPost, "/customers", cu, &out)
	return out, err
}

// AddCallerToCustomers puts the customer of a call the agent is on into
// its library, named name (the number when empty): "add to my customers".
// Already there is ErrExists.
func (c *Client) AddCallerToCustomers(ctx context.Context, callID, name string) (api.Customer, error) {
	var out api.Customer
	err := c.crm(ctx, "add the caller of "+callID+" to my customers", http.MethodPost, callPath(callID, "/customer"), api.AddCaller{Name: name}, &out)
	return out, err
}

// Customer returns a customer's card with its calls, notes and callbacks.
func (c *Client) Customer(ctx context.Context, id int64) (api.CustomerCard, error) {
	var out api.CustomerCard
	err := c.crm(ctx, fmt.Sprintf("customer %d", id), http.MethodGet, "/customers/"+strconv.FormatInt(id, 10), nil, &out)
	return out, err
}

// UpdateCustomer replaces a customer's card; only its owner or a
// supervisor may (ErrForbidden otherwise). An empty Owner keeps the owner.
func (c *Client) UpdateCustomer(ctx context.Context, id int64, cu api.Customer) (api.Customer, error) {
	var out api.Customer
	err := c.crm(ctx, fmt.Sprintf("update customer %d", id), http.MethodPut, "/customers/"+strconv.FormatInt(id, 10), cu, &out)
	return out, err
}

// CustomerByNumber returns the card of the customer with this number (the
// agent's own first); ErrNotFound when no customer has it.
func (c *Client) CustomerByNumber(ctx context.Context, number string) (api.CustomerCard, error) {
	var out api.CustomerCard
	err := c.crm(ctx, "customer by number "+number, http.MethodGet, "/customers/by-number/"+url.PathEscape(number), nil, &out)
	return out, err
}
