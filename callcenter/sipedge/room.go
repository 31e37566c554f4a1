package sipedge

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentphone/agentphone/audio"
	cmedia "github.com/agentphone/agentphone/callcenter/media"
	"github.com/emiago/diago"
	"github.com/emiago/diago/media"
)

// joinRoom anchors an answered call's media: both legs join one room in
// which all hear all, so the room transcodes (Opus agent ↔ G.711 carrier)
// and later features (hold, monitor, record) act on it. The dialogs keep
// owning their RTP sockets; closing the room removes both legs.
func (e *Edge) joinRoom(ctx context.Context, c *call) (*cmedia.Room, error) {
	room := cmedia.NewRoom(c.id, cmedia.WithLogger(e.log))
	legs := []struct {
		name string
		dm   *diago.DialogMedia
	}{
		{e.legName(c, true), &c.in.DialogMedia},
		{e.legName(c, false), &c.out.DialogMedia},
	}
	for _, l := range legs {
		cfg, err := legConfig(l.name, l.dm)
		if err == nil {
			_, err = room.Join(ctx, cfg)
		}
		if err != nil {
			room.Close()
			return nil, fmt.Errorf("room %s: %w", c.id, err)
		}
	}
	// An agent's keypad reaches the far end (an outside IVR, RFC 4733).
	room.OnDTMF(func(p *cmedia.Participant, d rune) { forwardDTMF(room, p, d) })
	return room, nil
}

// legName names a leg in the room: "customer" for the carrier's leg,
// "agent:<work number>" for an agent's.
func (e *Edge) legName(c *call, caller bool) string {
	switch {
	case caller && c.inIsTrunk, !caller && c.outIsTrunk:
		return "customer"
	case caller:
		return "agent:" + c.caller
	}
	return "agent:" + c.callee
}

var errNoMedia = errors.New("leg has no negotiated media")

func legConfig(name string, dm *diago.DialogMedia) (cmedia.ParticipantConfig, error) {
	rs := dm.RTPSession()
	ms := dm.MediaSession()
	if rs == nil || ms == nil {
		return cmedia.ParticipantConfig{}, fmt.Errorf("%s: %w", name, errNoMedia)
	}
	var ac media.Codec
	var dtmfPT uint8
	for _, cd := range ms.CommonCodecs() {
		if cd.Name == "telephone-event" {
			if dtmfPT == 0 {
				dtmfPT = cd.PayloadType
			}
			continue
		}
		if ac.Name == "" {
			ac = cd
		}
	}
	if ac.Name == "" {
		return cmedia.ParticipantConfig{}, fmt.Errorf("%s: %w", name, errNoMedia)
	}
	codec, err := audio.CodecByName(ac.Name)
	if err != nil {
		return cmedia.ParticipantConfig{}, fmt.Errorf("%s: %w", name, err)
	}
	return cmedia.ParticipantConfig{
		Name:            name,
		Conn:            rs,
		Codec:           codec,
		PayloadType:     ac.PayloadType,
		DTMFPayloadType: dtmfPT,
		Speaks:          true,
		Hears:           cmedia.HearAll,
	}, nil
}
