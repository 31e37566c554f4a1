// Command pstnsim plays the carrier (PSTN) and its customers on
// callcenterd's SIP trunk: it places customer calls to the center's number
// and answers the center's outbound calls with outcomes scripted by the
// dialled number (see package callcenter/pstnsim). It runs until SIGINT or
// SIGTERM.
//
//	pstnsim -listen 127.0.0.1:5080 -server 127.0.0.1:5060 -to 4008001234 \
//	        -from callers.txt -every 45s -hold 20s
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
	"syscall"
	"time"

	"github.com/agentphone/agentphone/callcenter/pstnsim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "pstnsim:", err)
		os.Exit(1)
	}
}

type config struct {
	listen, server, to, from, voice, logLevel, dtmf string
	count, concurrency                              int
	rate                                            float64
	every, first, hold, ring, answerHold, dtmfDelay time.Duration
}

func parseFlags(args []string, out io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("pstnsim", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:5080", "local SIP UDP address (host:port)")
	fs.StringVar(&c.server, "server", "127.0.0.1:5060", "callcenterd's SIP trunk address (host:port)")
	fs.StringVar(&c.to, "to", "", "center number customers call; empty places no calls, only answers")
	fs.StringVar(&c.from, "from", "13800138000", "caller numbers: a list file (one per line, # comments) or a comma list")
	fs.IntVar(&c.count, "count", 0, "calls to place (0: endless with -every or -rate)")
	fs.Float64Var(&c.rate, "rate", 0, "calls per second")
	fs.IntVar(&c.concurrency, "concurrency", 0, "most calls at once (0: no cap)")
	fs.DurationVar(&c.every, "every", 0, "place one call every D, one at a time (demo mode; overrides -rate and -concurrency)")
	fs.DurationVar(&c.first, "first", 0, "wait before the first call")
	fs.DurationVar(&c.hold, "hold", 30*time.Second, "how long a customer talks before hanging up (0: until the center hangs up)")
	fs.DurationVar(&c.answerHold, "answer-hold", 0, "how long a customer who answered the center's call talks (0: until the center hangs up)")
	fs.DurationVar(&c.ring, "ring", pstnsim.DefaultRingTime, "how long outbound calls ring before a late answer or no-answer")
	fs.StringVar(&c.voice, "voice", "tone:1500", "customer voice: tone:HZ[:DBFS] or a WAV file path")
	fs.StringVar(&c.dtmf, "dtmf", "", "digits each customer keys after the center answers (an IVR choice, e.g. 1)")
	fs.DurationVar(&c.dtmfDelay, "dtmf-delay", 2*time.Second, "wait after the answer before keying -dtmf")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return c, nil
}

func run(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseFlags(args, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	voice, err := pstnsim.ParseVoice(c.voice)
	if err != nil {
		return fmt.Errorf("-voice: %w", err)
	}
	var plan *pstnsim.Plan
	if c.to != "" {
		from, err := pstnsim.LoadNumbers(c.from)
		if err != nil {
			return fmt.Errorf("-from: %w", err)
		}
		p := pstnsim.Plan{To: c.to, From: from, Count: c.count, Rate: c.rate,
			Concurrency: c.concurrency, Delay: c.first, Hold: c.hold, DTMF: c.dtmf, DTMFDelay: c.dtmfDelay}
		if c.every > 0 {
			p.Rate, p.Concurrency = float64(time.Second)/float64(c.every), 1
		}
		if p.Count == 0 && p.Rate == 0 && p.Concurrency == 0 {
			p.Count = 1 // a bare -to places one call
		}
		plan = &p
	}

	sim, err := pstnsim.New(pstnsim.WithLogger(log), pstnsim.WithListen(c.listen),
		pstnsim.WithServer(c.server), pstnsim.WithVoice(voice), pstnsim.WithRingTime(c.ring), pstnsim.WithAnswerHold(c.answerHold))
	if err != nil {
		return err
	}
	if err := sim.Start(ctx); err != nil {
		return err
	}
	defer sim.Close()

	ran := make(chan struct{})
	go func() {
		defer close(ran)
		if plan == nil {
			return
		}
		rep, err := sim.Run(ctx, *plan)
		if err != nil && ctx.Err() == nil {
			log.Error("run failed", "error", err)
			return
		}
		log.Info("calls done", "report", rep.String())
	}()
	// Keep answering the center's calls after the plan is done.
	<-ctx.Done()
	log.Info("shutting down")
	err = sim.Close()
	<-ran
	return err
}
