package acd

import (
	"errors"
	"fmt"

	"github.com/agentphone/agentphone/callcenter"
)

var (
	// ErrUnknownGroup: no skill group of that name (callcenter.ErrNotFound).
	ErrUnknownGroup = fmt.Errorf("skill group %w", callcenter.ErrNotFound)
	// ErrUnknownCall: the call is not queued (answered, dequeued or never
	// enqueued); matches callcenter.ErrNotFound.
	ErrUnknownCall = fmt.Errorf("queued call %w", callcenter.ErrNotFound)
	// ErrDuplicateCall: Enqueue of a call id already queued
	// (callcenter.ErrExists).
	ErrDuplicateCall = fmt.Errorf("queued call %w", callcenter.ErrExists)
	// ErrNotOffered: OfferResult for an agent the call is not ringing.
	ErrNotOffered = errors.New("call is not offered to this agent")
	// ErrRinging: Move of a call whose offer is still ringing; move it
	// after the offer ends (Expired never returns ringing calls).
	ErrRinging = errors.New("call is ringing an agent")
	// ErrBadInput: a group or member that breaks a rule (empty name,
	// negative duration, level below 1, duplicate member); matches
	// callcenter.ErrInvalid.
	ErrBadInput = fmt.Errorf("%w: bad ACD input", callcenter.ErrInvalid)
)
