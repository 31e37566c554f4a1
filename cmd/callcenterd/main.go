// Command callcenterd is the call-center server: SIP registrar and B2BUA,
// media rooms, and the HTTP+WebSocket API, on an embedded SQLite store.
//
//	callcenterd serve   [-db FILE] [-http ADDR] [-sip ADDR] [-trunk ADDR] [-demo]
//	callcenterd admin   [-db FILE] agent|number ...
//	callcenterd migrate [-db FILE]
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "callcenterd:", err)
		}
		os.Exit(2)
	}
}

var errUsage = errors.New("usage")

const usage = `usage: callcenterd <command> [flags]

commands:
  serve     run the server (SIP, media, HTTP API)
  admin     manage agents and numbers (callcenterd admin -h)
  migrate   create or upgrade the database and exit
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serveCmd(ctx, args[1:], stderr)
	case "admin":
		return adminCmd(ctx, args[1:], stdout, stderr)
	case "migrate":
		return migrateCmd(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprintf(stderr, "callcenterd: unknown command %q\n\n%s", args[0], usage)
	return errUsage
}
