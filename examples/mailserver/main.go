package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// shutdownTimeout bounds the wait for transactions in progress on SIGINT or
// SIGTERM; connections still open then are closed (SMTP ones with 421).
const shutdownTimeout = 30 * time.Second

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "mailserver:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	if err := run(cfg, log); err != nil {
		log.Error("mailserver stopped", "err", err)
		os.Exit(1)
	}
}

// run starts the system and stops it on SIGINT or SIGTERM.
func run(cfg *config, log *slog.Logger) error {
	sys, err := newSystem(cfg, log, os.Stdout)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sys.Start(); err != nil {
		return err
	}
	log.Info("mailserver ready", "hostname", cfg.Hostname, "domains", cfg.Domains, "data", cfg.DataDir)
	var runErr error
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case runErr = <-sys.Err():
	}
	stop() // a second signal kills at once
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := sys.Shutdown(sctx); err != nil {
		return errors.Join(runErr, err)
	}
	log.Info("stopped")
	return runErr
}
