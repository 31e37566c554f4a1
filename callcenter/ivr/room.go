package ivr

import (
	"context"
	"fmt"

	"github.com/agentphone/agentphone/callcenter/media"
)

// DefaultPromptParticipant is the room participant name prompts play
// under; the caller's leg must hear it (media.Hear(..., "prompt")).
const DefaultPromptParticipant = "prompt"

// RoomPlayer is a Player on a media room: each prompt joins the room as a
// Source participant that speaks and hears nothing, and leaves when the
// clip ends or the context does (barge-in, hang-up). One RoomPlayer plays
// one prompt at a time.
type RoomPlayer struct {
	room    *media.Room
	prompts *Prompts
	name    string
	lang    string
}

// PlayerOption configures a RoomPlayer.
type PlayerOption func(*RoomPlayer)

// WithParticipantName sets the participant name (default "prompt").
func WithParticipantName(name string) PlayerOption { return func(p *RoomPlayer) { p.name = name } }

// WithLanguage plays lang's version of each prompt where one exists
// ("zh": zh/invalid for invalid), falling back on the default one.
func WithLanguage(lang string) PlayerOption { return func(p *RoomPlayer) { p.lang = lang } }

// NewRoomPlayer returns a Player for room.
func NewRoomPlayer(room *media.Room, prompts *Prompts, opts ...PlayerOption) *RoomPlayer {
	p := &RoomPlayer{room: room, prompts: prompts, name: DefaultPromptParticipant}
	for _, o := range opts {
		o(p)
	}
	return p
}

// Play implements Player.
func (p *RoomPlayer) Play(ctx context.Context, prompt string) error {
	// The file's own rate: the room resamples to its rate, and keeps
	// doing so if that changes mid-prompt (an Opus leg joins).
	clip, err := p.prompts.Clip(p.prompts.Localize(p.lang, prompt), 0)
	if err != nil {
		return fmt.Errorf("play %s: %w", prompt, err)
	}
	part, err := p.room.Join(ctx, media.ParticipantConfig{
		Name: p.name, Source: clip, Rate: clip.Rate(), Speaks: true, Hears: media.HearNone,
	})
	if err != nil {
		return fmt.Errorf("play %s: %w", prompt, err)
	}
	defer part.Leave()
	select {
	case <-clip.Done():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
