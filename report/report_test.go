package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/xuri/excelize/v2"
)

func ptr(v float64) *float64 { return &v }

// halfYear is the statistics of a first half of 2026 with 1,234 tickets.
func halfYear() *Semiannual {
	at := time.Date(2026, 7, 2, 9, 0, 0, 0, sportello.Rome)
	office := &sportello.StatsGroup{Dimension: sportello.ByOffice, Key: "o1", Label: "Anagrafe e Stato Civile",
		Tickets: 700, Answered: 650, AnsweredOnTime: 600, OnTimeShare: ptr(92.3),
		Resolution:   sportello.Durations{Measured: 650, MedianDays: ptr(4.25), P90Days: ptr(21), MedianOfficeHours: ptr(9.5)},
		Satisfaction: sportello.Satisfaction{Positive: 80, Neutral: 10, Negative: 10, CSAT: ptr(80)}}
	return &Semiannual{Year: 2026, Half: 1, Stats: &sportello.Statistics{
		Municipality: "Comune di Esempio",
		Period:       sportello.Period{From: sportello.Date{Year: 2026, Month: 1, Day: 1}, To: sportello.Date{Year: 2026, Month: 6, Day: 30}},
		At:           at,
		Total: &sportello.StatsGroup{Tickets: 1234, Answered: 1100, AnsweredOnTime: 990, OnTimeShare: ptr(90), Open: 134, Overdue: 12,
			FirstResponse: sportello.Durations{MedianOfficeHours: ptr(6.5)},
			Resolution:    sportello.Durations{Measured: 1100, MedianDays: ptr(5.5), P90Days: ptr(24.2)},
			Satisfaction:  sportello.Satisfaction{Positive: 120, Neutral: 20, Negative: 10, CSAT: ptr(80)}},
		Groups: []*sportello.StatsGroup{
			{Dimension: sportello.ByKind, Key: "COMPLAINT", Tickets: 300, OnTimeShare: ptr(85), Resolution: sportello.Durations{MedianDays: ptr(7)}},
			{Dimension: sportello.ByKind, Key: "INFORMATION", Tickets: 934, OnTimeShare: ptr(95.5)},
			{Dimension: sportello.ByChannel, Key: "APP", Tickets: 800},
			{Dimension: sportello.ByChannel, Key: "COUNTER", Tickets: 434},
			office,
			{Dimension: sportello.ByMonth, Key: "2026-01", Tickets: 200},
			{Dimension: sportello.ByMonth, Key: "2026-02", Tickets: 250},
		},
		RecordsAccess: []sportello.AccessOutcomeCount{{Outcome: sportello.AccessGranted, Count: 3}, {Count: 1}},
	}}
}

func TestSummaryReadsTheFiguresInItalian(t *testing.T) {
	s := Summarize(halfYear())
	if s.Figures[0].Value != "1.234" || s.Figures[1].Value != "90,0%" || s.Figures[2].Value != "5,5 gg" {
		t.Errorf("figures = %+v", s.Figures)
	}
	text := strings.Join(s.Sentences, " ")
	for _, want := range []string{"primo semestre 2026", "1.234 richieste, di cui 300 tra reclami e segnalazioni",
		"Il canale più usato è app (64,8% delle richieste)", "accesso agli atti sono state 4", "3 accolte, 1 in istruttoria", "12 oltre il termine"} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
}

func TestNumbersAreWrittenTheItalianWay(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Integer(0), "0"}, {Integer(999), "999"}, {Integer(1000), "1.000"}, {Integer(1234567), "1.234.567"},
		{Decimal(ptr(3.04)), "3,0"}, {Decimal(ptr(12.96)), "13,0"}, {Decimal(ptr(-0.5)), "-0,5"}, {Decimal(nil), "–"},
		{Percent(ptr(66.66)), "66,7%"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestPDFHasCoverSummaryChartsAndTablesWithTheFigures(t *testing.T) {
	var buf bytes.Buffer
	if err := PDF(&buf, halfYear(), false); err != nil {
		t.Fatal(err)
	}
	pdf := buf.String()
	if !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("not a PDF: %q", pdf[:20])
	}
	if pages := strings.Count(pdf, "/Type /Page\n"); pages < 3 {
		t.Errorf("%d pages, want a cover, a summary and the figures", pages)
	}
	// The core fonts write cp1252: "più" is "pi\xf9" in the file.
	for _, want := range []string{"Relazione semestrale al Sindaco", "Comune di Esempio", "1.234", "90,0%",
		"Anagrafe e Stato Civile", "92,3%", "Reclami", "Il canale pi\xf9 usato", "gennaio 2026"} {
		if !strings.Contains(pdf, want) {
			t.Errorf("the PDF lacks %q", want)
		}
	}
	var again bytes.Buffer
	if err := PDF(&again, halfYear(), false); err != nil || !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Errorf("the same figures gave another file (%v)", err)
	}
}

func TestHTMLIsSelfContainedWithEscapedText(t *testing.T) {
	r := halfYear()
	r.Stats.Groups[4].Label = `Ufficio <script>alert(1)</script>`
	var buf bytes.Buffer
	if err := HTML(&buf, r); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	for _, want := range []string{`<html lang="it">`, "<svg", "1.234", "Il canale più usato", "Ufficio &lt;script&gt;"} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML lacks %q", want)
		}
	}
	if strings.Contains(html, "<script>") || strings.Contains(html, "http://") || strings.Contains(html, "https://") {
		t.Error("the HTML runs or loads something")
	}
}

func registerEntries() []*sportello.RegisterEntry {
	filed := time.Date(2026, 3, 2, 23, 30, 0, 0, sportello.Rome)
	answered := filed.Add(72 * time.Hour)
	onTime := true
	return []*sportello.RegisterEntry{
		{Protocol: sportello.ProtocolNumber{Year: 2026, Seq: 12}, FiledAt: filed, Kind: sportello.KindComplaint,
			Channel: sportello.ChannelApp, Subject: "=HYPERLINK(\"x\")", Office: "Tributi", Status: sportello.StatusResolved,
			DueAt: sportello.DueAt(filed, 30), AnsweredAt: &answered, OnTime: &onTime, Feedback: sportello.FeedbackPositive},
		{Protocol: sportello.ProtocolNumber{Year: 2026, Seq: 13}, FiledAt: filed, Kind: sportello.KindReport,
			Channel: sportello.ChannelWeb, Subject: "Buca in via Roma", Status: sportello.StatusSubmitted, DueAt: sportello.DueAt(filed, 30)},
	}
}

func TestRegisterAsCSVAndXLSX(t *testing.T) {
	var buf bytes.Buffer
	if err := RegisterCSV(&buf, registerEntries()); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"2026/0000012", "02/03/2026", "Reclami", "App", "'=HYPERLINK(\"x\")", "Tributi", "Risolte",
		"01/04/2026", "05/03/2026", "sì", "Positivo"}
	if len(rows) != 3 || strings.Join(rows[1], "|") != strings.Join(want, "|") {
		t.Fatalf("csv = %q", rows)
	}
	if rows[2][5] != "non assegnata" || rows[2][8] != "" {
		t.Errorf("unanswered row = %q", rows[2])
	}

	buf.Reset()
	if err := RegisterXLSX(&buf, registerEntries()); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for cell, want := range map[string]string{"A1": "Protocollo", "A2": "2026/0000012", "B2": "02/03/2026",
		"E2": "=HYPERLINK(\"x\")", "I2": "05/03/2026", "J2": "sì", "A3": "2026/0000013", "F3": "non assegnata"} {
		if got, _ := f.GetCellValue("Registro", cell); got != want {
			t.Errorf("%s = %q, want %q", cell, got, want)
		}
	}
	if formula, _ := f.GetCellFormula("Registro", "E2"); formula != "" {
		t.Errorf("a subject became the formula %q", formula)
	}
}

func TestStatisticsCSVHasTheTotalThenEveryGroup(t *testing.T) {
	var buf bytes.Buffer
	if err := StatisticsCSV(&buf, halfYear().Stats); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 9 || rows[1][0] != "TOTALE" || rows[1][3] != "1234" || rows[1][6] != "90.00" {
		t.Fatalf("rows = %q", rows[:2])
	}
	if rows[6][0] != "OFFICE" || rows[6][2] != "Anagrafe e Stato Civile" || rows[6][15] != "4.25" {
		t.Errorf("office row = %q", rows[6])
	}
}
