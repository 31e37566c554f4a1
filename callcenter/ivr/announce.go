package ivr

import (
	"strconv"
	"time"
)

// MaxAnnounced is the largest queue position and expected wait (in
// minutes) there are prompts for.
const MaxAnnounced = 10

// QueuePrompts returns the prompts announcing a caller's queue position
// (1 = next) and expected wait, for Player.Play in order. A position or a
// wait past MaxAnnounced is left out rather than understated: "about ten
// minutes" for a half-hour wait is worse than no estimate. The wait is
// rounded up to whole minutes, so a few seconds never say "zero".
func QueuePrompts(position int, wait time.Duration) []string {
	var out []string
	if position >= 1 && position <= MaxAnnounced {
		out = append(out, "queue_position_"+strconv.Itoa(position))
	}
	if wait > 0 {
		if m := int((wait + time.Minute - 1) / time.Minute); m <= MaxAnnounced {
			out = append(out, "expected_wait_"+strconv.Itoa(m))
		}
	}
	return out
}
