// Package pstnsim simulates the carrier (PSTN) on the far side of
// callcenterd's SIP trunk, and the customers behind it.
//
// It speaks plain SIP over UDP with no registration, and offers G.711 PCMU
// and PCMA plus RFC 4733 telephone-event, like a typical trunk. It is built
// on diago and sipgo.
//
// Inbound (customers calling the center): Sim.Call places one call,
// Sim.Run places a Plan of calls at a rate with a concurrency cap and
// reports how many were answered and how the rest failed.
//
// Outbound (the center calling customers): the Sim answers every INVITE
// with an outcome chosen by the dialled number's last four digits:
//
//	....0486  busy           486 Busy Here               Reason: Q.850 cause 17
//	....0408  no answer      180, then after the ring time
//	                         480 Temporarily Unavailable  Reason: Q.850 cause 19
//	                         (or 487 if the caller cancels first)
//	....0480  unreachable    480 Temporarily Unavailable  Reason: Q.850 cause 18
//	....0503  powered off    183 with early media (Special Information Tone,
//	                         1.5 s), then 480             Reason: Q.850 cause 20
//	....0404  invalid number 404 Not Found                Reason: Q.850 cause 1
//	....0000  late answer    180, then 200 after the ring time
//	anything  answer         180, then 200 after a quarter of the ring time
//
// Only the ASCII digits of the Request-URI user count. The ring time is
// WithRingTime (default 6 s). Answered customers talk until the center
// hangs up, or for WithAnswerHold. While the Sim is closing, new INVITEs
// get 503.
//
// Answered calls in both directions send the customer's voice (a tone or a
// looped WAV, 20 ms RTP paced in real time), decode and keep what they
// receive (bounded to the last minute by default), and on hang-up log a
// summary: duration, received RMS level in dBFS and the dominant
// frequency (Goertzel scan of 300–3400 Hz in 50 Hz steps). Tests read the
// same through Call.Received, Call.Heard and Call.HeardSummary.
package pstnsim
