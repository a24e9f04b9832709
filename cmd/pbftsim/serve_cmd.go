package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/pbftsim/pbftsim/experiment/serve"
)

func newServeCmd() *cobra.Command {
	var (
		addr string
		out  string
	)
	cmd := &cobra.Command{
		Use:   "serve [FILE] [--addr 127.0.0.1:8080] [--out DIR]",
		Short: "Explore a run in the browser: step back and forth, pick the next delivery, fork a replay file",
		Long: `serve starts a local web server and prints its URL. The page shows a run as a
space-time diagram (zoom and pan in time, filter by node and message type,
violations highlighted) and every replica's state at the current step (view,
watermarks, log entries prepared/committed, checkpoints, pending timers, the
ledger), with the messages in flight.

FILE is a scenario (or a built-in scenario's name), a replay file, a trace,
or a sweep's JSON Lines (then the page lists its failing seeds grouped as
triage groups them, each one a click from its run).

Stepping: next / previous step, jump to a time, a trace record, the next
violation or view change. Previous is exact: the run is replayed from the
start to the step before.

Driving: from the current step deliver a chosen in-flight message next,
drop or duplicate one, fire a pending timer now, crash or recover a replica.
The run continues under that schedule; "fork" writes it as a replay file
into --out that pbftsim replay reproduces to the same trace hash. The page
can also run check or hunt and open the counterexample found at its
violation.

The server listens on the loopback address unless --addr names another one
explicitly. It reads only FILE, the built-in scenarios and the files it wrote
into --out, and writes nothing outside --out. The page is served from the
binary and loads nothing from the network.

Exit status: 0 after Ctrl-C, 2 bad input (address in use, FILE unreadable).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return usage(fmt.Errorf("--addr %q: want HOST:PORT, e.g. 127.0.0.1:8080", addr))
			}
			if !cmd.Flags().Changed("addr") {
				// The default is loopback; keep it so.
				if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
					return usage(fmt.Errorf("--addr %q is not a loopback address: give it explicitly with --addr to listen there", addr))
				}
			}
			if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
				fmt.Fprintf(cmd.ErrOrStderr(), "pbftsim serve: listening on %s, not a loopback address: anyone who can reach it can drive runs and write into %s\n", addr, out)
			}
			file := ""
			if len(args) == 1 {
				file = args[0]
			}
			srv := serve.New(serve.Options{File: file, Out: out, Version: version})
			if err := srv.CheckFile(); err != nil {
				return usage(err)
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return usage(fmt.Errorf("--addr %s: %w", addr, err))
			}
			url := "http://" + ln.Addr().String() + "/"
			if file != "" {
				url += "?open=" + file
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pbftsim serve: %s (output folder %s; Ctrl-C to stop)\n", url, out)
			hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
			ctx, _, release := stopOnSignal(cmd)
			defer release()
			go func() {
				<-ctx.Done()
				sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				_ = hs.Shutdown(sctx)
			}()
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (HOST:PORT; a non-loopback address only when given explicitly)")
	addOutFlag(fl, &out, filepath.Join(outDir, "serve"), "the folder for forks and found counterexamples (nothing is written elsewhere)")
	return cmd
}
