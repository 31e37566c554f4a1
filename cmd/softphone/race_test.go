//go:build race

package main

// raceEnabled: the test binary runs with -race, so the app it builds does too.
const raceEnabled = true
