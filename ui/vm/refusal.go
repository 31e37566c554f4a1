package vm

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"fyne.io/fyne/v2/lang"

	"github.com/agentphone/agentphone/callcenter/api"
)

// subject is whom a failed command was about (the transfer or consult
// target), so that a refusal can name them in the agent's language
// instead of repeating the server's English. The zero subject names nobody.
type subject struct {
	kind string // api.TargetAgent, TargetGroup, TargetNumber, "" unknown
	name string // "1002 Han Meimei", "Sales", "02161234567"
}

// failure is the line shown for a failed command (what is already
// translated). Refusals are translated by their code (refusalText); the
// server's own message is kept only where no translation can say more and
// it is a plain sentence without ids (humane). Other errors say what to do
// (try again, the server is unreachable), never the error chain, which
// carries call ids and internal wording; the log has those.
func failure(what string, err error) string { return failureAbout(what, subject{}, "", err) }

// failureAbout is failure for a command about who; badState, if not "",
// is what bad_state means for this command (a callback already done).
func failureAbout(what string, who subject, badState string, err error) string {
	var re *RefusedError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &re):
		return refusalText(re.Code, re.Reason, what, who, badState)
	case errors.Is(err, ErrGone):
		return lang.L("{{.What}}: it no longer exists (deleted meanwhile)", map[string]any{"What": what})
	case errors.Is(err, ErrUnsupported):
		return lang.L("{{.What}} is not available on this server", map[string]any{"What": what})
	case errors.Is(err, ErrUnreachable):
		return lang.L("The server cannot be reached; try again")
	case errors.Is(err, context.DeadlineExceeded):
		return lang.L("The server did not answer in time; try again")
	}
	return lang.L("{{.What}} failed; try again", map[string]any{"What": what})
}

// reason is a failed load's cause for "Cannot load …: {{.Error}}" lines:
// as failure, without naming the command again.
func reason(err error) string {
	var re *RefusedError
	switch {
	case errors.As(err, &re):
		if s := humane(re.Reason); s != "" {
			return s
		}
		return lang.L("the server refused")
	case errors.Is(err, ErrUnsupported):
		return lang.L("not available on this server")
	case errors.Is(err, ErrUnreachable):
		return lang.L("the server cannot be reached")
	case errors.Is(err, context.DeadlineExceeded):
		return lang.L("the server did not answer in time")
	}
	return lang.L("server error")
}

// refusalText translates a refusal of the in-call and CRM endpoints
// (api.Code*, plus forbidden, exists, not_found, bad_request). message is
// the server's, kept only for codes whose reason varies more than a
// translation can tell (callback_invalid, bad_request, forbidden, unknown
// codes, a busy target the softphone cannot name) and only when humane.
func refusalText(code, message, what string, who subject, badState string) string {
	named := who.name != ""
	args := map[string]any{"Name": who.name, "What": what}
	server := humane(message)
	switch code {
	case api.CodeAgentBusy:
		switch {
		case named && who.kind == api.TargetGroup:
			return lang.L("Nobody in {{.Name}} is free", args)
		case named:
			return lang.L("{{.Name}} is busy", args)
		case server != "":
			return server
		}
		return lang.L("The agent is busy")
	case api.CodeAgentOffline:
		if named {
			return lang.L("{{.Name}} is not online", args)
		}
		return lang.L("The agent is not online")
	case api.CodeNoAnswer:
		if named && who.kind == api.TargetGroup {
			return lang.L("Nobody in {{.Name}} answered; the customer is back with you", args)
		}
		if named {
			return lang.L("{{.Name}} did not answer; the customer is back with you", args)
		}
		return lang.L("No answer; the customer is back with you")
	case api.CodeRejected:
		if named {
			return lang.L("{{.Name}} declined; the customer is back with you", args)
		}
		return lang.L("The call was declined; the customer is back with you")
	case api.CodeNumberBusy:
		if named {
			return lang.L("{{.Name}} is busy; the customer is back with you", args)
		}
		return lang.L("The number is busy; the customer is back with you")
	case api.CodeNumberInvalid:
		if named {
			return lang.L("{{.Name}} is not a valid number", args)
		}
		return lang.L("That number does not exist")
	case api.CodeNoAgentsOnline:
		if named {
			return lang.L("Nobody in {{.Name}} is online", args)
		}
		return lang.L("Nobody in that group is online")
	case api.CodeNotInCall:
		return lang.L("You are no longer in this call")
	case api.CodeBadState:
		if badState != "" {
			return badState
		}
		return lang.L("{{.What}} is not possible at this point of the call", args)
	case api.CodeNoteBoxOpen:
		return lang.L("Close the previous call's note first")
	case api.CodeNoteReadOnly:
		return lang.L("Only its author can edit this note")
	case api.CodeNotAnsweredYet:
		return lang.L("You can add notes once you have answered the call")
	case api.CodeCallbackInvalid:
		if server != "" {
			return server
		}
		return lang.L("A callback needs a number to call and a time in the future")
	case api.CodeForbidden:
		if server != "" {
			return server
		}
		return lang.L("Only the customer's owner or a supervisor can do this")
	case api.CodeExists:
		return lang.L("This number is already in the customer library")
	case api.CodeNotFound:
		return lang.L("{{.What}}: it no longer exists (deleted meanwhile)", args)
	}
	if server != "" {
		return server
	}
	return lang.L("{{.What}} was refused", args)
}

// noticeLine translates the notice of a failed step (CallControl.Notice):
// the codes of a refusal, plus consult_ended.
func noticeLine(n api.Notice, who subject) string {
	if n.Code == "consult_ended" {
		return lang.L("The consulted party hung up; the customer is back with you")
	}
	if n.Code == "" {
		if s := humane(n.Message); s != "" {
			return s
		}
		return ""
	}
	return refusalText(n.Code, n.Message, lang.L("The last step"), who, "")
}

var (
	// uuidLike matches call ids (UUIDs) and other long hex runs.
	uuidLike = regexp.MustCompile(`(?i)[0-9a-f]{8}-[0-9a-f]{4}-|[0-9a-f]{12,}`)
	// internal marks wording meant for logs: Go quoting, wrapped error
	// prefixes, state names in parentheses.
	internal = regexp.MustCompile("[\"`%(){}<>\\[\\]]|\\b(callcenter|vm|client|center|api|sip|rtp):|\\bnil\\b|\\berr(or)?:")
)

// humane returns message as a sentence for the agent (first letter up),
// or "" when it is empty or carries an id or internal wording.
func humane(message string) string {
	m := strings.TrimSpace(message)
	if m == "" || uuidLike.MatchString(m) || internal.MatchString(m) || !utf8.ValidString(m) {
		return ""
	}
	r, n := utf8.DecodeRuneInString(m)
	return string(unicode.ToUpper(r)) + m[n:]
}
