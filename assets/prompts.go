package assets

import "embed"

// Prompts holds the IVR prompts and the hold music, kept apart from FS so
// the server can hand just these to callcenter/ivr (which may not import
// this package: callcenter/* depends only on callcenter and audio).
// Paths:
//
//	prompts/<key>.wav        English prompts, 8 kHz mono 16-bit PCM
//	prompts/zh/<key>.wav     the same keys in Mandarin
//	prompts/{part,num}/      fragments the counting prompts are spliced from
//	prompts/sequences.txt    which keys are spliced, "key: part part ..."
//	music/hold.wav           hold music, a seamless 20 s loop, 8 kHz mono
//
// The files are generated offline (espeak-ng, sox) and committed; rerun
// the generator after changing a text:
//
//go:generate go run ../callcenter/ivr/internal/gen -out .
//go:embed prompts music
var Prompts embed.FS

// HoldMusic is the path of the default hold music in Prompts.
const HoldMusic = "music/hold.wav"
