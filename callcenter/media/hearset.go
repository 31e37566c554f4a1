package media

import (
	"slices"
	"strings"
)

// HearSet says whose audio a participant receives. The zero value hears
// nobody. Names refer to ParticipantConfig.Name and may name participants
// that have not joined yet (a consult target, a recorder): they are
// matched whenever the membership changes.
type HearSet struct {
	all   bool
	names []string
}

var (
	// HearAll receives every speaking participant except itself.
	HearAll = HearSet{all: true}
	// HearNone receives nothing.
	HearNone = HearSet{}
)

// Hear returns a set receiving exactly the named participants.
func Hear(names ...string) HearSet {
	return HearSet{names: slices.Clone(names)}
}

// All reports whether the set hears every speaker.
func (h HearSet) All() bool { return h.all }

// Contains reports whether the participant called name is heard.
func (h HearSet) Contains(name string) bool {
	return h.all || slices.Contains(h.names, name)
}

// Empty reports whether the set hears nobody.
func (h HearSet) Empty() bool { return !h.all && len(h.names) == 0 }

func (h HearSet) String() string {
	switch {
	case h.all:
		return "all"
	case len(h.names) == 0:
		return "none"
	}
	return "{" + strings.Join(h.names, ",") + "}"
}
