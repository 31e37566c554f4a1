package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/agentphone/agentphone/callcenter"
)

// InCall is the persistence of in-call work (issue 4): call notes,
// scheduled callbacks and the customer library. The rules (who may edit,
// when a callback is done) live in callcenter/crm; the store checks the
// shape of what it is given (callcenter.Max* limits, numbers, work
// numbers) and refuses bad input with ErrInvalid before touching a row.
type InCall interface {
	// AddNote stores a note and returns it with ID (and CreatedAt, if
	// zero) set. ErrInvalid without call id or agent, with a customer that
	// is not a number, or a text empty or over MaxNoteLen characters.
	AddNote(ctx context.Context, n callcenter.Note) (callcenter.Note, error)
	// EditNote replaces a note's text and sets UpdatedAt to at. ErrNotFound
	// if there is no such note; ErrInvalid as AddNote.
	EditNote(ctx context.Context, id int64, text string, at time.Time) (callcenter.Note, error)
	// Note returns one note, ErrNotFound if none.
	Note(ctx context.Context, id int64) (callcenter.Note, error)
	// Notes returns the notes matching f, newest (by creation) first.
	Notes(ctx context.Context, f callcenter.NoteFilter) ([]callcenter.Note, error)

	// CreateCallback stores a callback and returns it with ID (and
	// CreatedAt, if zero) set. ErrInvalid for a bad agent or number, a
	// zero due time, an unknown state or a remark over MaxRemarkLen.
	CreateCallback(ctx context.Context, cb callcenter.Callback) (callcenter.Callback, error)
	// Callback returns one callback, ErrNotFound if none.
	Callback(ctx context.Context, id int64) (callcenter.Callback, error)
	// UpdateCallback replaces what may change of the callback cb.ID:
	// number, due time, remark, state, done call and reminder time (agent,
	// call and creation stay). ErrNotFound if none; ErrInvalid as Create.
	UpdateCallback(ctx context.Context, cb callcenter.Callback) (callcenter.Callback, error)
	// DeleteCallback removes a callback; ErrNotFound if none.
	DeleteCallback(ctx context.Context, id int64) error
	// Callbacks returns the callbacks matching f, by due time then ID.
	Callbacks(ctx context.Context, f callcenter.CallbackFilter) ([]callcenter.Callback, error)
	// MarkCallbackReminded sets the reminder time of a callback that has
	// none and reports whether it did: of two concurrent calls exactly one
	// gets true, so a reminder is sent once. ErrNotFound if none.
	MarkCallbackReminded(ctx context.Context, id int64, at time.Time) (bool, error)
	// CompleteCallbacks marks done, with doneCall, every pending callback
	// of agent to number created at or before answeredAt, and returns them
	// (done), by due time.
	CompleteCallbacks(ctx context.Context, agent, number, doneCall string, answeredAt time.Time) ([]callcenter.Callback, error)
	// ExpireCallbacks marks expired every pending callback due before
	// dueBefore and returns them (expired), by due time.
	ExpireCallbacks(ctx context.Context, dueBefore time.Time) ([]callcenter.Callback, error)

	// CreateCustomer stores a customer and returns it with ID, CreatedAt
	// and UpdatedAt set (the times when zero). ErrInvalid for a bad name,
	// owner, number, tag or field, no number, or a limit exceeded;
	// ErrExists when the owner already has a customer with one of its
	// numbers (the same number may be in several agents' libraries).
	CreateCustomer(ctx context.Context, c callcenter.Customer) (callcenter.Customer, error)
	// UpdateCustomer replaces everything of customer c.ID but CreatedAt,
	// and sets UpdatedAt (now when zero). ErrNotFound if none; otherwise
	// as CreateCustomer.
	UpdateCustomer(ctx context.Context, c callcenter.Customer) (callcenter.Customer, error)
	// Customer returns one customer, ErrNotFound if none.
	Customer(ctx context.Context, id int64) (callcenter.Customer, error)
	// Customers returns the customers matching f, by name then ID.
	Customers(ctx context.Context, f callcenter.CustomerFilter) ([]callcenter.Customer, error)
}

var _ InCall = (*SQLite)(nil)

// ---- validation

// checkText checks free text: valid UTF-8, at most max characters, no
// control characters but newline and tab when multiline; blank only when
// allowBlank.
func checkText(what, s string, max int, multiline, allowBlank bool) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: %s is not valid UTF-8", callcenter.ErrInvalid, what)
	}
	n, blank := 0, true
	for _, r := range s {
		n++
		if unicode.IsControl(r) && !(multiline && (r == '\n' || r == '\t' || r == '\r')) {
			return fmt.Errorf("%w: %s holds a control character", callcenter.ErrInvalid, what)
		}
		if !unicode.IsSpace(r) {
			blank = false
		}
	}
	if blank && !allowBlank {
		return fmt.Errorf("%w: %s is empty", callcenter.ErrInvalid, what)
	}
	if n > max {
		return fmt.Errorf("%w: %s is longer than %d characters", callcenter.ErrInvalid, what, max)
	}
	return nil
}

func checkCallID(id string, required bool) error {
	if id == "" {
		if required {
			return fmt.Errorf("%w: empty call id", callcenter.ErrInvalid)
		}
		return nil
	}
	if len(id) > callcenter.MaxCallIDLen || !utf8.ValidString(id) || strings.ContainsFunc(id, unicode.IsControl) {
		return fmt.Errorf("%w: call id %q", callcenter.ErrInvalid, id)
	}
	return nil
}

func checkNote(n callcenter.Note) error {
	if err := checkCallID(n.CallID, true); err != nil {
		return err
	}
	if n.Customer != "" {
		if err := callcenter.ValidateNumber(n.Customer); err != nil {
			return fmt.Errorf("customer: %w", err)
		}
	}
	if err := callcenter.ValidateWorkNumber(n.Agent); err != nil {
		return err
	}
	if err := checkText("note", n.Text, callcenter.MaxNoteLen, true, false); err != nil {
		return err
	}
	return errors.Join(checkTime("created at", n.CreatedAt), checkTime("updated at", n.UpdatedAt))
}

func checkCallback(cb callcenter.Callback) error {
	if err := callcenter.ValidateWorkNumber(cb.Agent); err != nil {
		return err
	}
	return checkCallbackChange(cb)
}

// checkCallbackChange checks what UpdateCallback may change.
func checkCallbackChange(cb callcenter.Callback) error {
	if err := callcenter.ValidateNumber(cb.Number); err != nil {
		return err
	}
	if err := checkCallID(cb.CallID, false); err != nil {
		return err
	}
	if err := checkCallID(cb.DoneCall, false); err != nil {
		return fmt.Errorf("done call: %w", err)
	}
	if cb.DueAt.IsZero() {
		return fmt.Errorf("%w: due time not set", callcenter.ErrInvalid)
	}
	if cb.State.String() == "unknown" {
		return fmt.Errorf("%w: callback state %d", callcenter.ErrInvalid, cb.State)
	}
	if err := checkText("remark", cb.Remark, callcenter.MaxRemarkLen, true, true); err != nil {
		return err
	}
	return errors.Join(checkTime("due at", cb.DueAt), checkTime("reminded at", cb.Reminded), checkTime("created at", cb.CreatedAt))
}

func checkCustomer(c callcenter.Customer) error {
	if err := callcenter.ValidateName(c.Name); err != nil {
		return err
	}
	if err := callcenter.ValidateWorkNumber(c.Owner); err != nil {
		return fmt.Errorf("owner: %w", err)
	}
	if len(c.Numbers) == 0 {
		return fmt.Errorf("%w: a customer needs a number", callcenter.ErrInvalid)
	}
	if len(c.Numbers) > callcenter.MaxCustomerNumbers {
		return fmt.Errorf("%w: more than %d numbers", callcenter.ErrInvalid, callcenter.MaxCustomerNumbers)
	}
	for i, n := range c.Numbers {
		if err := callcenter.ValidateNumber(n); err != nil {
			return err
		}
		if slices.Contains(c.Numbers[:i], n) {
			return fmt.Errorf("%w: number %s given twice", callcenter.ErrInvalid, n)
		}
	}
	if err := checkText("company", c.Company, callcenter.MaxCompanyLen, false, true); err != nil {
		return err
	}
	if len(c.Tags) > callcenter.MaxTags {
		return fmt.Errorf("%w: more than %d tags", callcenter.ErrInvalid, callcenter.MaxTags)
	}
	for _, t := range c.Tags {
		if err := checkText("tag", t, callcenter.MaxTagLen, false, false); err != nil {
			return err
		}
	}
	if len(c.Fields) > callcenter.MaxFields {
		return fmt.Errorf("%w: more than %d fields", callcenter.ErrInvalid, callcenter.MaxFields)
	}
	for k, v := range c.Fields {
		if err := checkText("field name", k, callcenter.MaxFieldKeyLen, false, false); err != nil {
			return err
		}
		if err := checkText("field "+k, v, callcenter.MaxFieldValueLen, true, true); err != nil {
			return err
		}
	}
	return errors.Join(checkTime("created at", c.CreatedAt), checkTime("updated at", c.UpdatedAt))
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

func limitArg(limit int) int64 {
	if limit > 0 {
		return int64(limit)
	}
	return -1 // SQLite: no limit
}

// ---- notes

const noteCols = `id, call_id, customer, agent, text, created_at, updated_at`

func scanNote(sc scanner) (callcenter.Note, error) {
	var (
		n                callcenter.Note
		created, updated sql.NullInt64
	)
	err := sc.Scan(&n.ID, &n.CallID, &n.Customer, &n.Agent, &n.Text, &created, &updated)
	n.CreatedAt, n.UpdatedAt = fromNanos(created), fromNanos(updated)
	return n, err
}

// AddNote implements InCall.
func (s *SQLite) AddNote(ctx context.Context, n callcenter.Note) (callcenter.Note, error) {
	what := fmt.Sprintf("add note to call %q", n.CallID)
	if n.CreatedAt.IsZero() {
		n.CreatedAt = s.now()
	}
	if err := checkNote(n); err != nil {
		return n, fmt.Errorf("%s: %w", what, err)
	}
	n.CreatedAt = n.CreatedAt.UTC().Round(0)
	if !n.UpdatedAt.IsZero() {
		n.UpdatedAt = n.UpdatedAt.UTC().Round(0)
	}
	err := s.w.QueryRowContext(ctx, `INSERT INTO notes (call_id, customer, agent, text, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		n.CallID, n.Customer, n.Agent, n.Text, nanos(n.CreatedAt), nanos(n.UpdatedAt)).Scan(&n.ID)
	if err != nil {
		return n, dbErr(what, err)
	}
	return n, nil
}

// EditNote implements InCall.
func (s *SQLite) EditNote(ctx context.Context, id int64, text string, at time.Time) (callcenter.Note, error) {
	what := fmt.Sprintf("edit note %d", id)
	if at.IsZero() {
		at = s.now()
	}
	if err := errors.Join(checkText("note", text, callcenter.MaxNoteLen, true, false), checkTime("updated at", at)); err != nil {
		return callcenter.Note{}, fmt.Errorf("%s: %w", what, err)
	}
	n, err := scanNote(s.w.QueryRowContext(ctx, `UPDATE notes SET text = ?, updated_at = ? WHERE id = ? RETURNING `+noteCols,
		text, at.UnixNano(), id))
	if err != nil {
		return n, dbErr(what, err)
	}
	return n, nil
}

// Note implements InCall.
func (s *SQLite) Note(ctx context.Context, id int64) (callcenter.Note, error) {
	n, err := scanNote(s.r.QueryRowContext(ctx, `SELECT `+noteCols+` FROM notes WHERE id = ?`, id))
	if err != nil {
		return n, dbErr(fmt.Sprintf("note %d", id), err)
	}
	return n, nil
}

// Notes implements InCall.
func (s *SQLite) Notes(ctx context.Context, f callcenter.NoteFilter) ([]callcenter.Note, error) {
	const what = "list notes"
	if f.Limit < 0 {
		return nil, fmt.Errorf("%s: %w: negative limit %d", what, callcenter.ErrInvalid, f.Limit)
	}
	var (
		where []string
		args  []any
	)
	if len(f.Customers) > 0 {
		where = append(where, "customer IN ("+placeholders(len(f.Customers))+")")
		for _, c := range f.Customers {
			args = append(args, c)
		}
	}
	if f.CallID != "" {
		where, args = append(where, "call_id = ?"), append(args, f.CallID)
	}
	q := `SELECT ` + noteCols + ` FROM notes`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY created_at DESC, id DESC LIMIT ?"
	rows, err := s.r.QueryContext(ctx, q, append(args, limitArg(f.Limit))...)
	return scanAll(what, rows, err, scanNote)
}

// ---- callbacks

const callbackCols = `id, agent, number, call_id, due_at, remark, state, done_call, reminded_at, created_at`

func scanCallback(sc scanner) (callcenter.Callback, error) {
	var (
		cb                     callcenter.Callback
		state                  string
		due, reminded, created sql.NullInt64
	)
	if err := sc.Scan(&cb.ID, &cb.Agent, &cb.Number, &cb.CallID, &due, &cb.Remark, &state, &cb.DoneCall, &reminded, &created); err != nil {
		return cb, err
	}
	cb.DueAt, cb.Reminded, cb.CreatedAt = fromNanos(due), fromNanos(reminded), fromNanos(created)
	st, ok := callcenter.ParseCallbackState(state)
	if !ok {
		return cb, fmt.Errorf("callback %d: stored state %q", cb.ID, state)
	}
	cb.State = st
	return cb, nil
}

func scanCallbacks(what string, rows *sql.Rows, err error) ([]callcenter.Callback, error) {
	return scanAll(what, rows, err, scanCallback)
}

func utcCallback(cb callcenter.Callback) callcenter.Callback {
	for _, t := range []*time.Time{&cb.DueAt, &cb.Reminded, &cb.CreatedAt} {
		if !t.IsZero() {
			*t = t.UTC().Round(0)
		}
	}
	return cb
}

// CreateCallback implements InCall.
func (s *SQLite) CreateCallback(ctx context.Context, cb callcenter.Callback) (callcenter.Callback, error) {
	what := fmt.Sprintf("create callback of agent %q", cb.Agent)
	if cb.CreatedAt.IsZero() {
		cb.CreatedAt = s.now()
	}
	if err := checkCallback(cb); err != nil {
		return cb, fmt.Errorf("%s: %w", what, err)
	}
	cb = utcCallback(cb)
	err := s.w.QueryRowContext(ctx, `INSERT INTO callbacks (agent, number, call_id, due_at, remark, state, done_call, reminded_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		cb.Agent, cb.Number, cb.CallID, nanos(cb.DueAt), cb.Remark, cb.State.String(), cb.DoneCall,
		nanos(cb.Reminded), nanos(cb.CreatedAt)).Scan(&cb.ID)
	if err != nil {
		return cb, dbErr(what, err)
	}
	return cb, nil
}

// Callback implements InCall.
func (s *SQLite) Callback(ctx context.Context, id int64) (callcenter.Callback, error) {
	cb, err := scanCallback(s.r.QueryRowContext(ctx, `SELECT `+callbackCols+` FROM callbacks WHERE id = ?`, id))
	if err != nil {
		return cb, dbErr(fmt.Sprintf("callback %d", id), err)
	}
	return cb, nil
}

// UpdateCallback implements InCall.
func (s *SQLite) UpdateCallback(ctx context.Context, cb callcenter.Callback) (callcenter.Callback, error) {
	what := fmt.Sprintf("update callback %d", cb.ID)
	if err := checkCallbackChange(cb); err != nil {
		return cb, fmt.Errorf("%s: %w", what, err)
	}
	cb = utcCallback(cb)
	out, err := scanCallback(s.w.QueryRowContext(ctx, `UPDATE callbacks SET
			number = ?, due_at = ?, remark = ?, state = ?, done_call = ?, reminded_at = ?
		WHERE id = ? RETURNING `+callbackCols,
		cb.Number, nanos(cb.DueAt), cb.Remark, cb.State.String(), cb.DoneCall, nanos(cb.Reminded), cb.ID))
	if err != nil {
		return out, dbErr(what, err)
	}
	return out, nil
}

// DeleteCallback implements InCall.
func (s *SQLite) DeleteCallback(ctx context.Context, id int64) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM callbacks WHERE id = ?`, id)
	return rowsAffected(fmt.Sprintf("delete callback %d", id), res, err)
}

// Callbacks implements InCall.
func (s *SQLite) Callbacks(ctx context.Context, f callcenter.CallbackFilter) ([]callcenter.Callback, error) {
	const what = "list callbacks"
	if f.Limit < 0 {
		return nil, fmt.Errorf("%s: %w: negative limit %d", what, callcenter.ErrInvalid, f.Limit)
	}
	if err := errors.Join(checkTime("due from", f.DueFrom), checkTime("due until", f.DueUntil)); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var (
		where []string
		args  []any
	)
	if f.Agent != "" {
		where, args = append(where, "agent = ?"), append(args, f.Agent)
	}
	if len(f.Numbers) > 0 {
		where = append(where, "number IN ("+placeholders(len(f.Numbers))+")")
		for _, n := range f.Numbers {
			args = append(args, n)
		}
	}
	if len(f.States) > 0 {
		// States are written as literals, not parameters: only then can
		// SQLite use the partial index of pending callbacks, which keeps
		// the reminder loop's poll off a table scan. They are our own enum
		// names, checked here.
		lits := make([]string, len(f.States))
		for i, st := range f.States {
			if st.String() == "unknown" {
				return nil, fmt.Errorf("%s: %w: callback state %d", what, callcenter.ErrInvalid, st)
			}
			lits[i] = "'" + st.String() + "'"
		}
		where = append(where, "state IN ("+strings.Join(lits, ", ")+")")
		if len(lits) == 1 {
			where[len(where)-1] = "state = " + lits[0]
		}
	}
	if !f.DueFrom.IsZero() {
		where, args = append(where, "due_at >= ?"), append(args, f.DueFrom.UnixNano())
	}
	if !f.DueUntil.IsZero() {
		where, args = append(where, "due_at < ?"), append(args, f.DueUntil.UnixNano())
	}
	if f.Unreminded {
		where = append(where, "reminded_at IS NULL")
	}
	q := `SELECT ` + callbackCols + ` FROM callbacks`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY due_at, id LIMIT ?"
	rows, err := s.r.QueryContext(ctx, q, append(args, limitArg(f.Limit))...)
	return scanCallbacks(what, rows, err)
}

// MarkCallbackReminded implements InCall.
func (s *SQLite) MarkCallbackReminded(ctx context.Context, id int64, at time.Time) (bool, error) {
	what := fmt.Sprintf("mark callback %d reminded", id)
	if at.IsZero() {
		return false, fmt.Errorf("%s: %w: zero time", what, callcenter.ErrInvalid)
	}
	if err := checkTime("reminded at", at); err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	// The condition is checked under the write lock: exactly one caller
	// sees the row unset.
	res, err := s.w.ExecContext(ctx, `UPDATE callbacks SET reminded_at = ? WHERE id = ? AND reminded_at IS NULL`, at.UnixNano(), id)
	if err != nil {
		return false, dbErr(what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("%s: %w", what, err)
	}
	if n == 1 {
		return true, nil
	}
	var one int
	if err := s.w.QueryRowContext(ctx, `SELECT 1 FROM callbacks WHERE id = ?`, id).Scan(&one); err != nil {
		return false, dbErr(what, err)
	}
	return false, nil
}

// CompleteCallbacks implements InCall.
func (s *SQLite) CompleteCallbacks(ctx context.Context, agent, number, doneCall string, answeredAt time.Time) ([]callcenter.Callback, error) {
	what := fmt.Sprintf("complete callbacks of agent %q to %q", agent, number)
	if agent == "" || number == "" || answeredAt.IsZero() {
		return nil, fmt.Errorf("%s: %w: agent, number and answer time are required", what, callcenter.ErrInvalid)
	}
	if err := errors.Join(checkCallID(doneCall, true), checkTime("answered at", answeredAt)); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	rows, err := s.w.QueryContext(ctx, `UPDATE callbacks SET state = ?, done_call = ?
		WHERE agent = ? AND number = ? AND state = '`+callcenter.CallbackPending.String()+`' AND created_at <= ? RETURNING `+callbackCols,
		callcenter.CallbackDone.String(), doneCall, agent, number, answeredAt.UnixNano())
	out, err := scanCallbacks(what, rows, err)
	sortCallbacks(out) // RETURNING gives no order
	return out, err
}

// ExpireCallbacks implements InCall.
func (s *SQLite) ExpireCallbacks(ctx context.Context, dueBefore time.Time) ([]callcenter.Callback, error) {
	const what = "expire callbacks"
	if dueBefore.IsZero() {
		return nil, fmt.Errorf("%s: %w: zero time", what, callcenter.ErrInvalid)
	}
	if err := checkTime("due before", dueBefore); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	// The pending state is a literal so the partial index serves the
	// poll that runs this every second.
	rows, err := s.w.QueryContext(ctx, `UPDATE callbacks SET state = ?
		WHERE state = '`+callcenter.CallbackPending.String()+`' AND due_at < ? RETURNING `+callbackCols,
		callcenter.CallbackExpired.String(), dueBefore.UnixNano())
	out, err := scanCallbacks(what, rows, err)
	sortCallbacks(out)
	return out, err
}

func sortCallbacks(cbs []callcenter.Callback) {
	slices.SortFunc(cbs, func(a, b callcenter.Callback) int {
		if c := a.DueAt.Compare(b.DueAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	})
}

// ---- customers

const customerCols = `id, name, company, tags, fields, owner, created_at, updated_at`

func scanCustomer(sc scanner) (callcenter.Customer, error) {
	var (
		c                callcenter.Customer
		tags, fields     string
		created, updated sql.NullInt64
	)
	if err := sc.Scan(&c.ID, &c.Name, &c.Company, &tags, &fields, &c.Owner, &created, &updated); err != nil {
		return c, err
	}
	c.CreatedAt, c.UpdatedAt = fromNanos(created), fromNanos(updated)
	if err := json.Unmarshal([]byte(tags), &c.Tags); err != nil {
		return c, fmt.Errorf("customer %d: stored tags: %w", c.ID, err)
	}
	if err := json.Unmarshal([]byte(fields), &c.Fields); err != nil {
		return c, fmt.Errorf("customer %d: stored fields: %w", c.ID, err)
	}
	return c, nil
}

// customerJSON encodes tags and fields; nil and empty both store as empty
// and read back as nil, so a round trip is exact for either.
func customerJSON(c callcenter.Customer) (tags, fields string) {
	t, f := []byte("null"), []byte("null")
	if len(c.Tags) > 0 {
		t, _ = json.Marshal(c.Tags) // strings always marshal
	}
	if len(c.Fields) > 0 {
		f, _ = json.Marshal(c.Fields)
	}
	return string(t), string(f)
}

func reverse(s string) string {
	b := []byte(s) // numbers are ASCII
	slices.Reverse(b)
	return string(b)
}

// putNumbers replaces the numbers of customer id in tx, refusing with
// ErrExists a number the owner has on another customer.
func putNumbers(ctx context.Context, tx *sql.Tx, id int64, owner string, numbers []string) error {
	var other int64
	err := tx.QueryRowContext(ctx, `SELECT n.customer_id FROM customer_numbers n JOIN customers c ON c.id = n.customer_id
		WHERE c.owner = ? AND c.id <> ? AND n.number IN (`+placeholders(len(numbers))+`) LIMIT 1`,
		append([]any{owner, id}, anys(numbers)...)...).Scan(&other)
	if err == nil {
		return fmt.Errorf("owner %s has customer %d with one of these numbers: %w", owner, other, callcenter.ErrExists)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM customer_numbers WHERE customer_id = ?`, id); err != nil {
		return err
	}
	for i, n := range numbers {
		if _, err := tx.ExecContext(ctx, `INSERT INTO customer_numbers (customer_id, number, reversed, position) VALUES (?, ?, ?, ?)`,
			id, n, reverse(n), i); err != nil {
			return err
		}
	}
	return nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func normCustomer(c callcenter.Customer) callcenter.Customer {
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC().Round(0), c.UpdatedAt.UTC().Round(0)
	c.Numbers = slices.Clone(c.Numbers)
	if len(c.Tags) == 0 {
		c.Tags = nil
	} else {
		c.Tags = slices.Clone(c.Tags)
	}
	if len(c.Fields) == 0 {
		c.Fields = nil
	} else {
		c.Fields = maps.Clone(c.Fields)
	}
	return c
}

// CreateCustomer implements InCall.
func (s *SQLite) CreateCustomer(ctx context.Context, c callcenter.Customer) (callcenter.Customer, error) {
	what := fmt.Sprintf("create customer %q", c.Name)
	if c.CreatedAt.IsZero() {
		c.CreatedAt = s.now()
	}
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = c.CreatedAt
	}
	if err := checkCustomer(c); err != nil {
		return c, fmt.Errorf("%s: %w", what, err)
	}
	c = normCustomer(c)
	tags, fields := customerJSON(c)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO customers (name, company, tags, fields, owner, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			c.Name, c.Company, tags, fields, c.Owner, nanos(c.CreatedAt), nanos(c.UpdatedAt)).Scan(&c.ID); err != nil {
			return err
		}
		return putNumbers(ctx, tx, c.ID, c.Owner, c.Numbers)
	})
	if err != nil {
		return callcenter.Customer{}, dbErr(what, err)
	}
	return c, nil
}

// UpdateCustomer implements InCall.
func (s *SQLite) UpdateCustomer(ctx context.Context, c callcenter.Customer) (callcenter.Customer, error) {
	what := fmt.Sprintf("update customer %d", c.ID)
	if c.UpdatedAt.IsZero() {
		c.UpdatedAt = s.now()
	}
	if err := checkCustomer(c); err != nil {
		return c, fmt.Errorf("%s: %w", what, err)
	}
	c = normCustomer(c)
	tags, fields := customerJSON(c)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var created sql.NullInt64
		if err := tx.QueryRowContext(ctx, `UPDATE customers SET name = ?, company = ?, tags = ?, fields = ?, owner = ?, updated_at = ?
			WHERE id = ? RETURNING created_at`,
			c.Name, c.Company, tags, fields, c.Owner, nanos(c.UpdatedAt), c.ID).Scan(&created); err != nil {
			return err
		}
		c.CreatedAt = fromNanos(created)
		return putNumbers(ctx, tx, c.ID, c.Owner, c.Numbers)
	})
	if err != nil {
		return callcenter.Customer{}, dbErr(what, err)
	}
	return c, nil
}

// tx runs fn in one write transaction, rolled back if fn fails.
func (s *SQLite) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Customer implements InCall.
func (s *SQLite) Customer(ctx context.Context, id int64) (callcenter.Customer, error) {
	what := fmt.Sprintf("customer %d", id)
	c, err := scanCustomer(s.r.QueryRowContext(ctx, `SELECT `+customerCols+` FROM customers WHERE id = ?`, id))
	if err != nil {
		return c, dbErr(what, err)
	}
	out := []callcenter.Customer{c}
	if err := s.loadNumbers(ctx, out); err != nil {
		return c, dbErr(what, err)
	}
	return out[0], nil
}

// likeEscape escapes LIKE's wildcards; the query uses ESCAPE '\'.
var likeEscape = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// numberEnd is above every character of a number, so [p, p+numberEnd) is
// the index range of the numbers starting with p.
const numberEnd = "\U0010FFFF"

// Customers implements InCall.
func (s *SQLite) Customers(ctx context.Context, f callcenter.CustomerFilter) ([]callcenter.Customer, error) {
	const what = "search customers"
	if f.Limit < 0 {
		return nil, fmt.Errorf("%s: %w: negative limit %d", what, callcenter.ErrInvalid, f.Limit)
	}
	var (
		where []string
		args  []any
	)
	if q := strings.TrimSpace(f.Query); q != "" {
		where = append(where, `(name LIKE ? ESCAPE '\'
			OR id IN (SELECT customer_id FROM customer_numbers WHERE number >= ? AND number < ?)
			OR id IN (SELECT customer_id FROM customer_numbers WHERE reversed >= ? AND reversed < ?))`)
		r := reverse(q)
		args = append(args, "%"+likeEscape.Replace(q)+"%", q, q+numberEnd, r, r+numberEnd)
	}
	if f.Owner != "" {
		where, args = append(where, "owner = ?"), append(args, f.Owner)
	}
	if f.Number != "" {
		where, args = append(where, "id IN (SELECT customer_id FROM customer_numbers WHERE number = ?)"), append(args, f.Number)
	}
	q := `SELECT ` + customerCols + ` FROM customers`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY name, id LIMIT ?"
	rows, err := s.r.QueryContext(ctx, q, append(args, limitArg(f.Limit))...)
	out, err := scanAll(what, rows, err, scanCustomer)
	if err != nil {
		return nil, err
	}
	if err := s.loadNumbers(ctx, out); err != nil {
		return nil, dbErr(what, err)
	}
	return out, nil
}

// loadChunk bounds the variables of one query (SQLite allows 32766).
const loadChunk = 500

// loadNumbers fills the numbers of cs, in their order, one query per
// loadChunk customers.
func (s *SQLite) loadNumbers(ctx context.Context, cs []callcenter.Customer) error {
	for len(cs) > loadChunk {
		if err := s.loadNumbers(ctx, cs[:loadChunk]); err != nil {
			return err
		}
		cs = cs[loadChunk:]
	}
	if len(cs) == 0 {
		return nil
	}
	idx := make(map[int64]int, len(cs))
	args := make([]any, len(cs))
	for i, c := range cs {
		idx[c.ID] = i
		args[i] = c.ID
	}
	rows, err := s.r.QueryContext(ctx, `SELECT customer_id, number FROM customer_numbers
		WHERE customer_id IN (`+placeholders(len(cs))+`) ORDER BY customer_id, position`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id int64
			n  string
		)
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		i := idx[id]
		cs[i].Numbers = append(cs[i].Numbers, n)
	}
	return rows.Err()
}
