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
)
