package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/graph"
	"github.com/sportello/sportello/report"
)

// registerReports adds the reports for the executive: the six-monthly report to the mayor, the
// register of complaints and reports, and the statistics as a spreadsheet. They are for MANAGER
// and ADMIN, with the bearer token of /graphql.
func (a *App) registerReports(mux *http.ServeMux) {
	mux.HandleFunc("GET /reports/semiannual", a.semiannualReport)
	mux.HandleFunc("GET /reports/complaints-register", a.complaintsRegister)
	mux.HandleFunc("GET /reports/statistics.csv", a.statisticsCSV)
}

// reportUser authenticates the caller of a report: a report needs a token (401 without one);
// the services then refuse roles other than MANAGER and ADMIN (403).
func (a *App) reportUser(w http.ResponseWriter, r *http.Request) (context.Context, bool) {
	authorization := r.Header.Get("Authorization")
	if authorization == "" {
		w.Header().Set("WWW-Authenticate", `Bearer`)
		http.Error(w, "sign in: send the token as Authorization: Bearer <token>", http.StatusUnauthorized)
		return nil, false
	}
	user, _, status, err := a.userFor(r.Context(), authorization, hostOf(r))
	if err != nil {
		if status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		}
		http.Error(w, err.Error(), status)
		return nil, false
	}
	return sportello.WithUser(r.Context(), user), true
}

// reportFailed answers a failed report with the status of its error code, in words a person who
// typed the address can act on; internal errors are logged and shown only by request id.
func reportFailed(ctx context.Context, w http.ResponseWriter, err error, example string) {
	e, ok := errors.AsType[*sportello.Error](err)
	if !ok {
		id := graph.RequestID(ctx)
		slog.ErrorContext(ctx, "report", "request_id", id, "error", err)
		http.Error(w, "internal error (request "+id+")", http.StatusInternalServerError)
		return
	}
	status := map[sportello.Code]int{sportello.CodeBadUserInput: http.StatusBadRequest,
		sportello.CodeUnauthenticated: http.StatusUnauthorized, sportello.CodeForbidden: http.StatusForbidden,
		sportello.CodeNotFound: http.StatusNotFound}[e.Code]
	if status == 0 {
		status = http.StatusConflict
	}
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Code == sportello.CodeBadUserInput {
		msg += " (for example " + example + ")"
	}
	http.Error(w, msg, status)
}

// send writes a finished file: reports are drawn into memory first, so that a failure halfway
// answers with an error instead of half a file.
func send(ctx context.Context, w http.ResponseWriter, contentType, filename string, body *bytes.Buffer) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	h.Set("Cache-Control", "private, no-store")
	if _, err := body.WriteTo(w); err != nil {
		slog.WarnContext(ctx, "write report", "request_id", graph.RequestID(ctx), "error", err)
	}
}

// semiannualReport serves the report to the mayor for ?year=&half= as PDF, or as HTML with
// format=html.
func (a *App) semiannualReport(w http.ResponseWriter, r *http.Request) {
	const example = "/reports/semiannual?year=2026&half=1"
	ctx, ok := a.reportUser(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	year, err := strconv.Atoi(q.Get("year"))
	if err != nil {
		reportFailed(ctx, w, sportello.InvalidField("year", "must be a year such as 2026"), example)
		return
	}
	half, _ := strconv.Atoi(q.Get("half"))
	period, err := sportello.HalfYear(year, half)
	if err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	format := q.Get("format")
	if format != "" && format != "pdf" && format != "html" {
		reportFailed(ctx, w, sportello.InvalidField("format", "must be pdf or html"), example)
		return
	}
	stats, err := a.Resolver.StatisticsService.Statistics(ctx, period, report.Dimensions)
	if err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	rep := &report.Semiannual{Year: year, Half: half, Stats: stats}
	name := "relazione-semestrale_" + strconv.Itoa(year) + "-" + strconv.Itoa(half)
	var body bytes.Buffer
	if format == "html" {
		if err := report.HTML(&body, rep); err != nil {
			reportFailed(ctx, w, err, example)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "private, no-store")
		body.WriteTo(w)
		return
	}
	if err := report.PDF(&body, rep, true); err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	send(ctx, w, "application/pdf", name+".pdf", &body)
}

// periodParams reads ?from=&to=, both optional: the period runs from the first of January of
// the current year in Rome to today.
func (a *App) periodParams(r *http.Request) (sportello.Period, error) {
	today := sportello.DateOf(a.Resolver.Now())
	p := sportello.Period{From: sportello.Date{Year: today.Year, Month: 1, Day: 1}, To: today}
	q := r.URL.Query()
	var err error
	if s := q.Get("from"); s != "" {
		if p.From, err = sportello.ParseDate("from", s); err != nil {
			return p, err
		}
	}
	if s := q.Get("to"); s != "" {
		if p.To, err = sportello.ParseDate("to", s); err != nil {
			return p, err
		}
	}
	return p, p.Validate("")
}

// complaintsRegister serves the register of complaints, reports and suggestions of a period as
// CSV or, with format=xlsx, as an Excel workbook.
func (a *App) complaintsRegister(w http.ResponseWriter, r *http.Request) {
	const example = "/reports/complaints-register?format=xlsx&from=2026-01-01&to=2026-06-30"
	ctx, ok := a.reportUser(w, r)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "xlsx" {
		reportFailed(ctx, w, sportello.InvalidField("format", "must be csv or xlsx"), example)
		return
	}
	p, err := a.periodParams(r)
	if err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	entries, err := a.Resolver.StatisticsService.ComplaintsRegister(ctx, p)
	if err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	name := "registro-reclami_" + p.From.String() + "_" + p.To.String() + "." + format
	var body bytes.Buffer
	if format == "xlsx" {
		if err := report.RegisterXLSX(&body, entries); err != nil {
			reportFailed(ctx, w, err, example)
			return
		}
		send(ctx, w, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", name, &body)
		return
	}
	if err := report.RegisterCSV(&body, entries); err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	send(ctx, w, "text/csv; charset=utf-8", name, &body)
}

// statisticsCSV serves the statistics of a period, grouped by ?groupBy=KIND,CHANNEL (every
// dimension when absent), as CSV.
func (a *App) statisticsCSV(w http.ResponseWriter, r *http.Request) {
	const example = "/reports/statistics.csv?from=2026-01-01&to=2026-06-30&groupBy=KIND,OFFICE"
	ctx, ok := a.reportUser(w, r)
	if !ok {
		return
	}
	p, err := a.periodParams(r)
	if err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	dims := report.Dimensions
	if s := r.URL.Query().Get("groupBy"); s != "" {
		dims = nil
		for _, d := range strings.Split(s, ",") {
			dims = append(dims, sportello.StatsDimension(strings.ToUpper(strings.TrimSpace(d))))
		}
	}
	stats, err := a.Resolver.StatisticsService.Statistics(ctx, p, dims)
	if err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	var body bytes.Buffer
	if err := report.StatisticsCSV(&body, stats); err != nil {
		reportFailed(ctx, w, err, example)
		return
	}
	send(ctx, w, "text/csv; charset=utf-8", "statistiche_"+p.From.String()+"_"+p.To.String()+".csv", &body)
}
