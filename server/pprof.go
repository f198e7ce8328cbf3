package main

import (
	"log/slog"
	"net/http"
	"net/http/pprof"
	"time"
)

// servePprof serves Go's profiles (/debug/pprof/) on addr, apart from the API, so that a
// running server can be profiled under load (go tool pprof http://ADDR/debug/pprof/profile).
// The address should be a loopback one: profiles reveal the program's internals.
func servePprof(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		slog.Info("profiling", "addr", "http://"+addr+"/debug/pprof/")
		if err := srv.ListenAndServe(); err != nil {
			slog.Error("pprof server", "error", err)
		}
	}()
}
