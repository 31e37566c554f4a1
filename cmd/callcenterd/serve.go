package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/agentphone/agentphone/assets"
	"github.com/agentphone/agentphone/callcenter"
	"github.com/agentphone/agentphone/callcenter/admin"
	"github.com/agentphone/agentphone/callcenter/center"
	"github.com/agentphone/agentphone/callcenter/crm"
	"github.com/agentphone/agentphone/callcenter/ivr"
	"github.com/agentphone/agentphone/callcenter/server"
	"github.com/agentphone/agentphone/callcenter/sipedge"
	"github.com/agentphone/agentphone/callcenter/store"
)

// defaultRealm is the SIP digest realm; HA1s stored by `admin` are bound to it,
// so serve and admin must agree (both take -realm).
const defaultRealm = "agentphone"

// config is everything `serve` needs; tests build one directly.
type config struct {
	DB        string
	HTTPAddr  string
	SIPAddr   string
	TrunkAddr string // the carrier's SIP address (pstnsim)
	Realm     string
	Demo      bool
	Heartbeat time.Duration
	RingTime  time.Duration
	// MD5OnlyUA lists User-Agent prefixes challenged with MD5 alone: phones
	// (baresip 1.0) that give up on any SHA-256 challenge, whatever its order.
	MD5OnlyUA []string
	Log       *slog.Logger
}

// instance is a running server: store, SIP edge and HTTP API.
type instance struct {
	st      *store.SQLite
	center  *center.Center
	edge    *sipedge.Edge
	api     *server.Server
	httpSrv *http.Server
	httpLn  net.Listener
	log     *slog.Logger
	cancel  context.CancelFunc
	done    chan struct{}
	// centerDone is closed when the center's Run has returned.
	centerDone chan struct{}
	// crm keeps notes, callbacks and customers; crmDone is closed when its
	// reminder loop has returned.
	crm     *crm.Service
	crmDone chan struct{}
}

// HTTPURL is the API's base URL.
func (in *instance) HTTPURL() string { return "http://" + in.httpLn.Addr().String() }

// SIPAddr is where agents register and the carrier sends calls.
func (in *instance) SIPAddr() string { return in.edge.Addr() }

func start(ctx context.Context, cfg config) (_ *instance, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Realm == "" {
		cfg.Realm = defaultRealm
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 5 * time.Second
	}
	log := cfg.Log
	ctx, cancel := context.WithCancel(ctx)
	in := &instance{log: log, cancel: cancel, done: make(chan struct{})}
	defer func() {
		if err != nil {
			cancel()
			in.closeParts()
		}
	}()

	in.st, err = store.Open(ctx, cfg.DB, store.WithLogger(log))
	if err != nil {
		return nil, err
	}
	// Close what a crash (kill -9, power loss) left open before taking calls:
	// exactly one record per call, none left dangling.
	n, err := in.st.RepairUnfinished(ctx, time.Now())
	if err != nil {
		return nil, fmt.Errorf("repair unfinished call records: %w", err)
	}
	if n > 0 {
		log.Warn("closed call records left open by an unclean stop", "records", n)
	}
	if cfg.Demo {
		if err := admin.Seed(ctx, in.st, cfg.Realm); err != nil {
			return nil, fmt.Errorf("demo data: %w", err)
		}
	}

	// The inbound call center drives trunk calls (IVR, queues, agent
	// states); its changes go to the API server once that exists.
	sink := &server.Forwarder{}
	prompts, err := ivr.NewPrompts(assets.Prompts)
	if err != nil {
		return nil, fmt.Errorf("IVR prompts: %w", err)
	}
	// Notes, callbacks and customers; the callback reminders run as long
	// as the server and reach agents through the same forwarder. The CRM
	// asks the center about live calls and the center asks the CRM for
	// names and callbacks: the CRM gets a late-bound view of the center,
	// set once the center exists and before any call can arrive.
	live := &liveCenter{}
	in.crm = crm.New(in.st, crm.WithLogger(log.With("part", "crm")), crm.WithSink(sink), crm.WithLive(live))
	in.center, err = center.New(in.st, center.WithLogger(log.With("part", "center")),
		center.WithEvents(sink), center.WithPrompts(prompts),
		center.WithCustomers(in.crm), center.WithCallbacks(in.crm, ""))
	if err != nil {
		return nil, fmt.Errorf("inbound call center: %w", err)
	}
	live.set(in.center)
	in.centerDone = make(chan struct{})
	go func() {
		defer close(in.centerDone)
		in.center.Run(ctx)
	}()
	in.crmDone = make(chan struct{})
	go func() {
		defer close(in.crmDone)
		in.crm.Run(ctx)
	}()

	// The edge reports calls and registrations to the API server, which is
	// built after it because it needs the edge's resolved address.
	opts := []sipedge.Option{
		sipedge.WithInbound(in.center.HandleInbound),
		sipedge.WithOutbound(in.center.HandleOutbound),
		sipedge.WithAgentActivity(in.center.AgentActivity),
		sipedge.WithLogger(log.With("part", "sip")),
		sipedge.WithRealm(cfg.Realm),
		sipedge.WithListen(cfg.SIPAddr),
		// Read by the edge's goroutines while api is still being built: the
		// forwarder's atomic pointer makes that hand-over race-free.
		sipedge.WithCallObserver(sink.PublishCall),
		sipedge.WithRegistrationObserver(sink.SetRegistered),
	}
	if cfg.TrunkAddr != "" {
		opts = append(opts, sipedge.WithTrunk(cfg.TrunkAddr))
	}
	if len(cfg.MD5OnlyUA) > 0 {
		opts = append(opts, sipedge.WithMD5OnlyFor(cfg.MD5OnlyUA...))
	}
	if cfg.RingTime > 0 {
		opts = append(opts, sipedge.WithRingTimeout(cfg.RingTime))
	}
	// Every ended record also completes the callbacks it fulfils.
	in.edge, err = sipedge.New(in.st, completingRecords{st: in.st, crm: in.crm, log: log.With("part", "records")}, opts...)
	if err != nil {
		return nil, err
	}
	if err := in.edge.Start(ctx); err != nil {
		return nil, fmt.Errorf("start SIP on %s: %w", cfg.SIPAddr, err)
	}
	api := server.New(in.st,
		server.WithLogger(log.With("part", "api")),
		server.WithRealm(cfg.Realm),
		server.WithSIPRegistrar(in.edge.Addr()),
		server.WithPresence(in.edge.Registered),
		server.WithCenter(in.center),
		server.WithCRM(in.crm),
		server.WithController(in.center),
	)
	in.api = api
	sink.Set(api)

	in.httpLn, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen HTTP on %s: %w", cfg.HTTPAddr, err)
	}
	in.httpSrv = &http.Server{Handler: api.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := in.httpSrv.Serve(in.httpLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("HTTP server stopped", "err", err)
		}
	}()
	go in.heartbeat(ctx, cfg.Heartbeat)
	log.Info("callcenterd ready", "http", in.HTTPURL(), "sip", in.edge.Addr(), "trunk", cfg.TrunkAddr, "db", cfg.DB)
	return in, nil
}

// liveCenter is the center as crm.Live, bound after both exist: the CRM
// is built first because the center takes it (names, callbacks). Before
// set, no call is live.
type liveCenter struct{ c atomic.Pointer[center.Center] }

func (l *liveCenter) set(c *center.Center) { l.c.Store(c) }

// LiveCall implements crm.Live.
func (l *liveCenter) LiveCall(callID, agent string) (crm.LiveCall, bool) {
	c := l.c.Load()
	if c == nil {
		return crm.LiveCall{}, false
	}
	return c.LiveCall(callID, agent)
}

// completingRecords writes the edge's call records to the store and,
// once an ended record is stored, tells the CRM (crm.Service.CallCompleted),
// which marks done the callbacks that call fulfilled. A CRM failure is
// logged, never the record's: the record is what must not be lost.
type completingRecords struct {
	st  sipedge.Records
	crm *crm.Service
	log *slog.Logger
}

func (r completingRecords) BeginCallRecord(ctx context.Context, rec callcenter.CallRecord) error {
	return r.st.BeginCallRecord(ctx, rec)
}

func (r completingRecords) EndCallRecord(ctx context.Context, rec callcenter.CallRecord) error {
	if err := r.st.EndCallRecord(ctx, rec); err != nil {
		return err
	}
	if err := r.crm.CallCompleted(ctx, rec); err != nil {
		r.log.Warn("callbacks of a completed call", "call", rec.CallID, "err", err)
	}
	return nil
}

// heartbeat records that the server is alive, so that after a crash the
// repair can end open records at the last moment the server was known to run.
func (in *instance) heartbeat(ctx context.Context, every time.Duration) {
	defer close(in.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := in.st.Heartbeat(ctx, time.Now()); err != nil && ctx.Err() == nil {
			in.log.Warn("heartbeat", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (in *instance) closeParts() error {
	var errs []error
	if in.httpSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		errs = append(errs, in.httpSrv.Shutdown(sctx))
		cancel()
	} else if in.httpLn != nil {
		errs = append(errs, in.httpLn.Close())
	}
	if in.api != nil {
		errs = append(errs, in.api.Close())
	}
	if in.edge != nil {
		errs = append(errs, in.edge.Close())
	}
	if in.centerDone != nil {
		in.cancel()
		<-in.centerDone
	}
	if in.crmDone != nil {
		in.cancel()
		<-in.crmDone
	}
	if in.st != nil {
		errs = append(errs, in.st.Close())
	}
	return errors.Join(errs...)
}

// Close stops everything: live calls are hung up and recorded, then the store closes.
func (in *instance) Close() error {
	in.cancel()
	<-in.done
	return in.closeParts()
}

func serveCmd(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.DB, "db", "callcenter.db", "SQLite database file")
	fs.StringVar(&cfg.HTTPAddr, "http", "127.0.0.1:8080", "HTTP API listen address")
	fs.StringVar(&cfg.SIPAddr, "sip", "127.0.0.1:5060", "SIP listen address (UDP)")
	fs.StringVar(&cfg.TrunkAddr, "trunk", "", "carrier SIP trunk address host:port (e.g. pstnsim)")
	fs.StringVar(&cfg.Realm, "realm", defaultRealm, "SIP digest realm")
	fs.BoolVar(&cfg.Demo, "demo", false, "create the demo agents and number if missing")
	md5UA := fs.String("sip-md5-only-ua", "baresip", "comma-separated User-Agent prefixes challenged with MD5 only (phones that fail on SHA-256)")
	level := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return errUsage
	}
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(strings.ToUpper(*level))); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	for _, p := range strings.Split(*md5UA, ",") {
		if p = strings.TrimSpace(p); p != "" {
			cfg.MD5OnlyUA = append(cfg.MD5OnlyUA, p)
		}
	}
	cfg.Log = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: lv}))
	in, err := start(ctx, cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	cfg.Log.Info("shutting down")
	return in.Close()
}

func openStore(ctx context.Context, fs *flag.FlagSet, args []string, stderr io.Writer) (*store.SQLite, []string, string, error) {
	db := fs.String("db", "callcenter.db", "SQLite database file")
	realm := fs.String("realm", defaultRealm, "SIP digest realm (must match serve)")
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		return nil, nil, "", errUsage
	}
	st, err := store.Open(ctx, *db)
	if err != nil {
		return nil, nil, "", err
	}
	return st, fs.Args(), *realm, nil
}

func adminCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	st, rest, realm, err := openStore(ctx, flag.NewFlagSet("admin", flag.ContinueOnError), args, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	return admin.Run(ctx, st, realm, rest, stdout, stderr)
}

func migrateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	st, _, _, err := openStore(ctx, flag.NewFlagSet("migrate", flag.ContinueOnError), args, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "database %s at schema version %d\n", st.Path(), v)
	return nil
}
