package ivr

import "errors"

var (
	// ErrTimeout is returned by Keys.Next when no digit came in time.
	ErrTimeout = errors.New("ivr: no key before the timeout")
	// ErrNoMenu is returned by Run when the start menu does not exist.
	ErrNoMenu = errors.New("ivr: no such menu")
	// ErrNoPrompt is returned for a prompt name with no WAV file or
	// sequence behind it.
	ErrNoPrompt = errors.New("ivr: no such prompt")
	// ErrBadPromptName is returned for a prompt name that is not a clean
	// relative path (".." or absolute paths from an admin's typo or worse).
	ErrBadPromptName = errors.New("ivr: bad prompt name")
	// ErrBadSequence is returned for a malformed sequences.txt line.
	ErrBadSequence = errors.New("ivr: bad prompt sequence")
)
