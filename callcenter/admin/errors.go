package admin

import "errors"

// ErrUsage is returned for a command line that does not parse: unknown
// command, missing argument or flag. The usage text has been written to
// stderr by then.
var ErrUsage = errors.New("usage")
