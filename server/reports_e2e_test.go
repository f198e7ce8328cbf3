package main

import (
	"bytes"
	"compress/zlib"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/xuri/excelize/v2"
)

// get fetches a report as the holder of token ("" for none) and returns its status, content type
// and body.
func (s *testServer) get(token, path string) (int, string, []byte) {
	s.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header.Get("Content-Type"), body
}

var pdfStream = regexp.MustCompile(`(?s)stream\r?\n(.*?)\r?\nendstream`)

// pdfText returns the page contents of a compressed PDF, inflated: the text it draws appears in
// them between parentheses, in cp1252.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	for _, m := range pdfStream.FindAllSubmatch(pdf, -1) {
		r, err := zlib.NewReader(bytes.NewReader(m[1]))
		if err != nil {
			continue // an image or a font, not a page
		}
		b, _ := io.ReadAll(r)
		out.Write(b)
	}
	return out.String()
}

func TestFeedbackStatisticsAndReportsEndToEnd(t *testing.T) {
	s := startServer(t)
	citizen := s.token(sportello.RoleCitizen, "rita")
	operator := s.token(sportello.RoleOperator, "op")
	manager := s.token(sportello.RoleManager, "boss")

	var filed struct {
		SubmitTicket struct {
			ProtocolNumber string
			ReceiptCode    *string
			Ticket         struct{ ID string }
		}
	}
	const submit = `mutation($k: TicketKind!, $s: String!) { submitTicket(input: {kind: $k, subject: $s, body: "Testo"}) {
		protocolNumber receiptCode ticket { id } } }`
	s.ok(citizen, submit, map[string]any{"k": "INFORMATION", "s": "Orari dell'anagrafe"}, &filed)
	mine := filed.SubmitTicket.Ticket.ID
	s.ok("", submit, map[string]any{"k": "REPORT", "s": "=Buca in via Roma"}, &filed)
	anon := filed.SubmitTicket

	const leave = `mutation($t: ID!, $l: FeedbackLevel!, $r: Int) { leaveFeedback(ticketId: $t, level: $l, rating: $r) {
		level rating givenBy ticket { id } } }`
	s.fails(citizen, leave, map[string]any{"t": mine, "l": "POSITIVE"}, sportello.CodeInvalidTransition, "")
	for _, id := range []string{mine, anon.Ticket.ID} {
		for _, to := range []string{"IN_PROGRESS", "RESOLVED"} {
			s.ok(operator, `mutation($t: ID!, $to: TicketStatus!) { transitionTicket(ticketId: $t, to: $to) { status } }`,
				map[string]any{"t": id, "to": to}, nil)
		}
	}
	s.fails(citizen, leave, map[string]any{"t": mine, "l": "POSITIVE", "r": 9}, sportello.CodeBadUserInput, "rating")
	var fb struct {
		LeaveFeedback struct {
			Level, GivenBy string
			Rating         int
			Ticket         struct{ ID string }
		}
	}
	s.ok(citizen, leave, map[string]any{"t": mine, "l": "POSITIVE", "r": 5}, &fb)
	if fb.LeaveFeedback.GivenBy != "CITIZEN" || fb.LeaveFeedback.Ticket.ID != mine || fb.LeaveFeedback.Rating != 5 {
		t.Fatalf("feedback = %+v", fb)
	}
	s.fails(citizen, leave, map[string]any{"t": mine, "l": "NEGATIVE"}, sportello.CodeConflict, "")
	s.ok("", `mutation($p: String!, $c: String!) { leaveFeedbackByReceipt(protocolNumber: $p, receiptCode: $c, level: NEGATIVE,
		comment: "Ancora rotta") { givenBy comment } }`, map[string]any{"p": anon.ProtocolNumber, "c": *anon.ReceiptCode}, nil)

	now := time.Now().In(sportello.Rome)
	year, half := now.Year(), 1
	if now.Month() > time.June {
		half = 2
	}
	period, _ := sportello.HalfYear(year, half)
	const stats = `query($p: PeriodInput!) { statistics(period: $p, groupBy: [KIND, CHANNEL]) {
		total { tickets answered answeredOnTime onTimeShare open satisfaction { positive negative csat averageRating } }
		groups { dimension key label tickets } } }`
	vars := map[string]any{"p": map[string]any{"from": period.From.String(), "to": period.To.String()}}
	s.fails(operator, stats, vars, sportello.CodeForbidden, "")
	var st struct {
		Statistics struct {
			Total struct {
				Tickets, Answered, AnsweredOnTime, Open int
				OnTimeShare                             float64
				Satisfaction                            struct {
					Positive, Negative  int
					Csat, AverageRating float64
				}
			}
			Groups []struct {
				Dimension, Key, Label string
				Tickets               int
			}
		}
	}
	s.ok(manager, stats, vars, &st)
	tot := st.Statistics.Total
	if tot.Tickets != 2 || tot.Answered != 2 || tot.AnsweredOnTime != 2 || tot.OnTimeShare != 100 || tot.Open != 0 ||
		tot.Satisfaction.Positive != 1 || tot.Satisfaction.Negative != 1 || tot.Satisfaction.Csat != 50 || tot.Satisfaction.AverageRating != 5 {
		t.Fatalf("total = %+v", tot)
	}
	if len(st.Statistics.Groups) != 3 || st.Statistics.Groups[0].Dimension != "KIND" || st.Statistics.Groups[2] != (struct {
		Dimension, Key, Label string
		Tickets               int
	}{"CHANNEL", "WEB", "WEB", 2}) {
		t.Fatalf("groups = %+v", st.Statistics.Groups)
	}

	semiannual := fmt.Sprintf("/reports/semiannual?year=%d&half=%d", year, half)
	if status, _, _ := s.get("", semiannual); status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", status)
	}
	if status, _, _ := s.get(operator, semiannual); status != http.StatusForbidden {
		t.Errorf("as an operator: %d", status)
	}
	if status, _, body := s.get(manager, "/reports/semiannual?year=2026&half=3"); status != http.StatusBadRequest || !strings.Contains(string(body), "half") {
		t.Errorf("half 3: %d %s", status, body)
	}
	status, ctype, pdf := s.get(manager, semiannual)
	if status != http.StatusOK || ctype != "application/pdf" || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("report: %d %s %q", status, ctype, pdf[:min(len(pdf), 40)])
	}
	if pages := bytes.Count(pdf, []byte("/Type /Page\n")); pages < 3 {
		t.Errorf("the report has %d pages", pages)
	}
	text := pdfText(t, pdf)
	for _, want := range []string{"Relazione semestrale al Sindaco", "(2)", "100,0%", "50,0%", "Segnalazioni", "Informazioni", "Portale web"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF does not show %q", want)
		}
	}
	status, ctype, html := s.get(manager, semiannual+"&format=html")
	if status != http.StatusOK || !strings.HasPrefix(ctype, "text/html") || !strings.Contains(string(html), "50,0%") {
		t.Errorf("html report: %d %s", status, ctype)
	}

	register := "/reports/complaints-register?from=" + period.From.String() + "&to=" + period.To.String()
	status, ctype, xlsx := s.get(manager, register+"&format=xlsx")
	if status != http.StatusOK || !strings.Contains(ctype, "spreadsheetml") {
		t.Fatalf("xlsx register: %d %s %s", status, ctype, xlsx)
	}
	f, err := excelize.OpenReader(bytes.NewReader(xlsx))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, _ := f.GetRows("Registro")
	if len(rows) != 2 || rows[1][0] != anon.ProtocolNumber || rows[1][2] != "Segnalazioni" || rows[1][4] != "=Buca in via Roma" ||
		rows[1][9] != "sì" || rows[1][10] != "Negativo" {
		t.Fatalf("register rows = %q", rows)
	}
	status, _, body := s.get(manager, register)
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if status != http.StatusOK || err != nil || len(records) != 2 || records[1][4] != "'=Buca in via Roma" {
		t.Fatalf("csv register: %d %q %v", status, records, err)
	}
	if status, _, _ := s.get(manager, register+"&format=ods"); status != http.StatusBadRequest {
		t.Errorf("format ods: %d", status)
	}
	status, _, body = s.get(manager, "/reports/statistics.csv?groupBy=kind&from="+period.From.String()+"&to="+period.To.String())
	records, err = csv.NewReader(bytes.NewReader(body)).ReadAll()
	if status != http.StatusOK || err != nil || len(records) != 4 || records[1][0] != "TOTALE" || records[1][3] != "2" {
		t.Fatalf("statistics csv: %d %q %v", status, records, err)
	}
	if status, _, _ := s.get(manager, "/reports/statistics.csv?groupBy=WEEKDAY"); status != http.StatusBadRequest {
		t.Errorf("unknown dimension: %d", status)
	}
}

func TestSurveysEndToEnd(t *testing.T) {
	s := startServer(t)
	manager := s.token(sportello.RoleManager, "boss")
	citizen := s.token(sportello.RoleCitizen, "rita")
	today := sportello.DateOf(time.Now())
	var created struct{ CreateSurvey struct{ ID string } }
	const create = `mutation($in: SurveyInput!) { createSurvey(input: $in) { id status questions { key condition { question atMost } } } }`
	input := func(anonymous bool) map[string]any {
		return map[string]any{"in": map[string]any{"title": "Come è andata?", "from": today.String(), "to": today.AddDays(30).String(),
			"target": "ALL_CITIZENS", "anonymous": anonymous, "questions": []map[string]any{
				{"key": "voto", "type": "RATING", "text": "Voto", "required": true},
				{"key": "nps", "type": "NPS", "text": "Ci consiglierebbe?"},
				{"key": "perche", "type": "TEXT", "text": "Perché?", "condition": map[string]any{"question": "voto", "atMost": 2}},
			}}}
	}
	s.fails(citizen, create, input(false), sportello.CodeForbidden, "")
	s.ok(manager, create, input(false), &created)
	identified := created.CreateSurvey.ID
	s.ok(manager, create, input(true), &created)
	anonymous := created.CreateSurvey.ID

	const respond = `mutation($s: ID!, $a: [AnswerInput!]!, $t: String) { respondToSurvey(surveyId: $s, answers: $a, token: $t, channel: APP) }`
	answers := []map[string]any{{"question": "voto", "value": 1}, {"question": "perche", "text": "Attesa"}, {"question": "nps", "value": 10}}
	s.fails(citizen, respond, map[string]any{"s": identified, "a": []map[string]any{{"question": "voto", "value": 7}}},
		sportello.CodeBadUserInput, "answers.voto")
	s.fails(citizen, respond, map[string]any{"s": identified, "a": []map[string]any{{"question": "voto", "value": 4}, answers[1]}},
		sportello.CodeBadUserInput, "answers.perche")
	s.ok(citizen, respond, map[string]any{"s": identified, "a": answers}, nil)
	s.fails(citizen, respond, map[string]any{"s": identified, "a": answers}, sportello.CodeConflict, "")

	var links struct{ CreateSurveyLinks []string }
	s.ok(manager, `mutation($s: ID!) { createSurveyLinks(surveyId: $s, count: 2, at: {channel: COUNTER}) }`, map[string]any{"s": anonymous}, &links)
	if len(links.CreateSurveyLinks) != 2 {
		t.Fatalf("links = %v", links)
	}
	s.ok("", respond, map[string]any{"s": anonymous, "a": []map[string]any{{"question": "voto", "value": 5}}, "t": links.CreateSurveyLinks[0]}, nil)
	s.fails("", respond, map[string]any{"s": anonymous, "a": []map[string]any{{"question": "voto", "value": 5}}, "t": links.CreateSurveyLinks[0]},
		sportello.CodeConflict, "")

	var res struct {
		SurveyResults struct {
			Responses int
			Csat      float64
			Questions []struct {
				Answers      int
				Distribution []struct {
					Option string
					Count  int
				}
			}
			ByChannel []struct {
				Key       string
				Responses int
			}
		}
	}
	const results = `query($s: ID!) { surveyResults(id: $s) { responses csat questions { answers distribution { option count } }
		byChannel { key responses } } }`
	s.ok(manager, results, map[string]any{"s": anonymous}, &res)
	r := res.SurveyResults
	if r.Responses != 1 || r.Csat != 100 || r.Questions[0].Distribution[4].Count != 1 || len(r.ByChannel) != 1 || r.ByChannel[0].Key != "COUNTER" {
		t.Fatalf("results = %+v", r)
	}
	s.fails(citizen, results, map[string]any{"s": anonymous}, sportello.CodeForbidden, "")
	s.ok(manager, `mutation($s: ID!) { closeSurvey(id: $s) { status closedAt } }`, map[string]any{"s": identified}, nil)
	s.fails(citizen, `query($s: ID!) { survey(id: $s) { title } }`, map[string]any{"s": identified}, sportello.CodeNotFound, "")
}
