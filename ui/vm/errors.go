package vm

import "errors"

// Sentinel errors. Backends wrap their own errors with these so the
// view-models can choose a message without knowing the concrete client.
var (
	// ErrBadCredentials: the server rejected the work number or password.
	ErrBadCredentials = errors.New("vm: wrong work number or password")
	// ErrUnreachable: the server could not be reached at all.
	ErrUnreachable = errors.New("vm: server unreachable")
	// ErrDisabled: the account exists but an administrator disabled it.
	ErrDisabled = errors.New("vm: account disabled")
	// ErrMissingFields: the login form is incomplete.
	ErrMissingFields = errors.New("vm: work number and password are required")
	// ErrBadServer: the server address is not an http(s) URL.
	ErrBadServer = errors.New("vm: invalid server address")
	// ErrBusy: a login is already in progress.
	ErrBusy = errors.New("vm: login already in progress")
	// ErrNoDevice: the chosen audio device is not connected.
	ErrNoDevice = errors.New("vm: audio device not connected")
	// ErrRefused: the server refused a status change (e.g. switching
	// answering off while talking). *RefusedError carries its reason.
	ErrRefused = errors.New("vm: refused by the server")
	// ErrUnsupported: the server does not offer this (an older callcenterd).
	ErrUnsupported = errors.New("vm: not supported by the server")
	// ErrNoCustomer: no card of the customer library has this number.
	ErrNoCustomer = errors.New("vm: not in the customer library")
	// ErrGone: the note, callback or customer acted on no longer exists
	// (deleted meanwhile: the server answered 404 on its own route).
	ErrGone = errors.New("vm: no longer exists")
)

// RefusedError is a change the server refused, with its reason for the
// agent. Code is the server's refusal code (api.Code*), "" when it gave
// none; the view-models branch on it (e.g. the note box rule).
type RefusedError struct {
	Reason string
	Code   string
}

func (e *RefusedError) Error() string { return "refused: " + e.Reason }

// Is makes errors.Is(err, ErrRefused) true.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }
