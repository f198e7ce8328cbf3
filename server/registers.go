package main

import (
	"encoding/csv"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph"
)

// registerRegisters adds the public registers the municipality publishes as files.
func (a *App) registerRegisters(mux *http.ServeMux) {
	mux.HandleFunc("GET /registers/access.csv", a.accessRegisterCSV)
}

// accessRegisterCSV serves the register of accesses from one day to another (both included) as
// CSV, with the columns and values of the accessRegister query. It is public, like the query
// for anonymous callers: the tenant comes from the host and any token is ignored.
func (a *App) accessRegisterCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	from, err := sportello.ParseDate("from", q.Get("from"))
	if err != nil {
		badRegisterRequest(w, err)
		return
	}
	to, err := sportello.ParseDate("to", q.Get("to"))
	if err != nil {
		badRegisterRequest(w, err)
		return
	}
	user, _, status, err := a.userFor(ctx, "", hostOf(r))
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	rows, err := a.Resolver.RecordsAccessService.AccessRegister(sportello.WithUser(ctx, user), from, to)
	if sportello.ErrorCode(err) == sportello.CodeBadUserInput {
		badRegisterRequest(w, err)
		return
	}
	if err != nil {
		id := graph.RequestID(ctx)
		slog.ErrorContext(ctx, "access register", "request_id", id, "error", err)
		http.Error(w, "internal error (request "+id+")", http.StatusInternalServerError)
		return
	}
	name := "registro-accessi_" + from.String() + "_" + to.String() + ".csv"
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	out := csv.NewWriter(w)
	out.Write([]string{"type", "requestDate", "subject", "outcome", "decisionDate"})
	for _, e := range rows {
		decided := ""
		if e.DecisionDate != nil {
			decided = e.DecisionDate.String()
		}
		out.Write([]string{string(e.Type), e.RequestDate.String(), inertCell(e.Subject),
			string(e.Outcome), decided})
	}
	out.Flush()
	if err := out.Error(); err != nil {
		slog.WarnContext(ctx, "write access register", "request_id", graph.RequestID(ctx), "error", err)
	}
}

// badRegisterRequest answers a request for a register with bad dates, in words a person who
// typed the address can act on.
func badRegisterRequest(w http.ResponseWriter, err error) {
	msg := err.Error()
	if e, ok := errors.AsType[*sportello.Error](err); ok {
		msg = e.Field + ": " + e.Message
	}
	http.Error(w, msg+" (for example /registers/access.csv?from=2026-01-01&to=2026-06-30)", http.StatusBadRequest)
}

// inertCell keeps a spreadsheet from running a cell as a formula: text that starts like one
// gets a leading apostrophe, which spreadsheets show as text and hide.
func inertCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
