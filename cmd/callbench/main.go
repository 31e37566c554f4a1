// Command callbench measures callcenterd under load (issue 4's figures):
//
//	callbench cpu     server CPU per anchored call-second, G.711 and Opus↔G.711
//	callbench max     the most concurrent calls with < 0.5% late or lost frames
//	callbench setup   call setup rate through callcenterd with sipp
//
// callcenterd runs as a child process (built with `go build` unless -bin
// names one), so its CPU (/proc/PID/stat), RSS and Go heap (GODEBUG=
// gctrace=1) are its own, while the generators run here on the same
// machine. The generators are cheap on purpose: registered agents (sipgo)
// place calls to outside numbers, the server anchors each in a room and
// sends it to the carrier trunk (sipgo, here too); every leg's RTP is
// paced by one goroutine with non-blocking reads. docs/BENCH.md has the
// figures and how to reproduce them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "callbench:", err)
		}
		os.Exit(1)
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, `usage: callbench cpu|max|setup [flags]   (callbench <command> -h for flags)`)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		usage(stderr)
		return errUsage
	}
	switch args[0] {
	case "cpu":
		return cpuCmd(ctx, args[1:], stdout, stderr)
	case "max":
		return maxCmd(ctx, args[1:], stdout, stderr)
	case "setup":
		return setupCmd(ctx, args[1:], stdout, stderr)
	}
	usage(stderr)
	return errUsage
}

// common flags of the media commands.
type mediaFlags struct {
	bin, serverLog string
	window         time.Duration
	rate           float64
	check          int
	verbose        bool
}

func (m *mediaFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&m.bin, "bin", "", "callcenterd binary (default: go build ./cmd/callcenterd)")
	fs.StringVar(&m.serverLog, "server-log", "", "write callcenterd's log to this file")
	fs.DurationVar(&m.window, "window", 20*time.Second, "measured steady-state window")
	fs.Float64Var(&m.rate, "rate", 50, "calls placed per second while ramping up")
	fs.IntVar(&m.check, "check", 4, "calls whose tones are decoded and checked both ways")
	fs.BoolVar(&m.verbose, "v", false, "log the generator's SIP warnings")
}

func (m *mediaFlags) config(calls int, codec string, stderr io.Writer) (mediaConfig, func(), error) {
	cfg := mediaConfig{Calls: calls, Codec: codec, Window: m.window, Rate: m.rate, Check: min(m.check, calls), Bin: m.bin}
	lv := slog.LevelError
	if m.verbose {
		lv = slog.LevelWarn
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	done := func() {}
	if m.serverLog != "" {
		f, err := os.Create(m.serverLog)
		if err != nil {
			return cfg, nil, err
		}
		cfg.Server = f
		done = func() { f.Close() }
	}
	return cfg, done, nil
}

func cpuCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("cpu", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var mf mediaFlags
	mf.register(fs)
	calls := fs.Int("calls", 200, "concurrent calls")
	codecs := fs.String("codecs", "PCMU,opus", "agent leg codecs to measure, each against a PCMU carrier leg")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	for _, codec := range strings.Split(*codecs, ",") {
		cfg, done, err := mf.config(*calls, strings.TrimSpace(codec), stderr)
		if err != nil {
			return err
		}
		res, err := runMedia(ctx, cfg)
		done()
		if err != nil {
			return fmt.Errorf("%s: %w", codec, err)
		}
		res.print(stdout)
		fmt.Fprintln(stdout)
	}
	return nil
}

// maxCmd runs growing call counts, each on a fresh server, and reports the
// largest that stayed under the loss budget with every spot check passed.
func maxCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("max", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var mf mediaFlags
	mf.register(fs)
	steps := fs.String("steps", "300,400,500,600,700,800", "call counts to try, in order; stops at the first that fails")
	codec := fs.String("codec", "PCMU", "agent leg codec")
	budget := fs.Float64("budget", 0.5, "largest acceptable late+lost frames, percent (server and generator sides each)")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	best := 0
	for _, s := range strings.Split(*steps, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("-steps %q: %w", *steps, errUsage)
		}
		cfg, done, err := mf.config(n, *codec, stderr)
		if err != nil {
			return err
		}
		res, err := runMedia(ctx, cfg)
		done()
		if err != nil {
			return fmt.Errorf("%d calls: %w", n, err)
		}
		res.print(stdout)
		pass := res.Failed == 0 && res.ServerHungUp == 0 && res.SpotsOK() == len(res.Spots) &&
			100*res.GenBadRatio() < *budget && 100*res.ServerBadRatio() < *budget
		fmt.Fprintf(stdout, "=> %d calls: %s\n\n", n, map[bool]string{true: "PASS", false: "FAIL"}[pass])
		if !pass {
			break
		}
		best = n
	}
	fmt.Fprintf(stdout, "most concurrent %s calls with < %.1f%% late or lost frames and tones both ways: %d\n", *codec, *budget, best)
	return nil
}
