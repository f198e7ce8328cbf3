package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/xuri/excelize/v2"
)

// RegisterColumns are the columns of the register of complaints and reports.
var RegisterColumns = []string{"Protocollo", "Data", "Tipo", "Canale", "Oggetto", "Ufficio", "Stato", "Scadenza",
	"Data risposta", "Nei termini", "Giudizio"}

// registerRow is an entry as text; days are written dd/mm/yyyy, in Rome.
func registerRow(e *sportello.RegisterEntry) []string {
	answered, onTime := "", ""
	if e.AnsweredAt != nil {
		answered = date(*e.AnsweredAt)
		onTime = "no"
		if *e.OnTime {
			onTime = "sì"
		}
	}
	office := e.Office
	if office == "" {
		office = "non assegnata"
	}
	return []string{e.Protocol.String(), date(e.FiledAt), KindName(e.Kind), ChannelName(e.Channel), e.Subject, office,
		StatusName(e.Status), date(e.DueAt), answered, onTime, feedbackNames[e.Feedback]}
}

// RegisterCSV writes the register as CSV, every cell safe from being run as a formula.
func RegisterCSV(w io.Writer, entries []*sportello.RegisterEntry) error {
	out := csv.NewWriter(w)
	out.Write(RegisterColumns)
	for _, e := range entries {
		row := registerRow(e)
		for i := range row {
			row[i] = inert(row[i])
		}
		out.Write(row)
	}
	out.Flush()
	return out.Error()
}

// RegisterXLSX writes the register as an Excel workbook: one sheet with a bold header, real
// dates, and a filter on every column.
func RegisterXLSX(w io.Writer, entries []*sportello.RegisterEntry) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "Registro"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("register workbook: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("register workbook: %w", err)
	}
	dateFmt := "dd/mm/yyyy"
	day, err := f.NewStyle(&excelize.Style{CustomNumFmt: &dateFmt})
	if err != nil {
		return fmt.Errorf("register workbook: %w", err)
	}
	header := make([]any, len(RegisterColumns))
	for i, c := range RegisterColumns {
		header[i] = c
	}
	if err := f.SetSheetRow(sheet, "A1", &header); err != nil {
		return fmt.Errorf("register workbook: %w", err)
	}
	for i, e := range entries {
		row := registerRow(e)
		cells := make([]any, len(row))
		for j, v := range row {
			cells[j] = v
		}
		// Days are written as dates, which spreadsheets sort and filter; text cells are
		// never formulas with SetSheetRow, so they need no apostrophe.
		cells[1], cells[7] = day0(e.FiledAt), day0(e.DueAt)
		if e.AnsweredAt != nil {
			cells[8] = day0(*e.AnsweredAt)
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := f.SetSheetRow(sheet, cell, &cells); err != nil {
			return fmt.Errorf("register workbook: %w", err)
		}
	}
	last, _ := excelize.CoordinatesToCellName(len(RegisterColumns), len(entries)+1)
	lastCol, _ := excelize.ColumnNumberToName(len(RegisterColumns))
	for _, col := range []string{"B", "H", "I"} {
		if err := f.SetColStyle(sheet, col, day); err != nil {
			return fmt.Errorf("register workbook: %w", err)
		}
	}
	if err := f.SetCellStyle(sheet, "A1", lastCol+"1", bold); err != nil {
		return fmt.Errorf("register workbook: %w", err)
	}
	if err := f.SetColWidth(sheet, "E", "F", 40); err != nil {
		return fmt.Errorf("register workbook: %w", err)
	}
	if err := f.AutoFilter(sheet, "A1:"+last, nil); err != nil {
		return fmt.Errorf("register workbook: %w", err)
	}
	if err := f.SetPanes(sheet, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("register workbook: %w", err)
	}
	_, err = f.WriteTo(w)
	return err
}

// day0 is the day of t in Rome as a date without zone, so the spreadsheet shows that day
// whatever time zone it converts from.
func day0(t time.Time) time.Time {
	d := sportello.DateOf(t)
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

// StatisticsColumns are the columns of the statistics as CSV.
var StatisticsColumns = []string{"dimensione", "chiave", "etichetta", "richieste", "risposte", "risposte_nei_termini",
	"quota_nei_termini", "aperte", "scadute", "prima_risposta_mediana_ore_ufficio", "prima_risposta_p90_ore_ufficio",
	"prima_risposta_mediana_giorni", "prima_risposta_p90_giorni", "risposta_mediana_ore_ufficio",
	"risposta_p90_ore_ufficio", "risposta_mediana_giorni", "risposta_p90_giorni", "giudizi_positivi",
	"giudizi_neutri", "giudizi_negativi", "soddisfatti_percento", "voto_medio"}

// StatisticsCSV writes the statistics, the total first and then each group, one row each.
// Numbers use a decimal point and empty cells for figures without data.
func StatisticsCSV(w io.Writer, st *sportello.Statistics) error {
	out := csv.NewWriter(w)
	out.Write(StatisticsColumns)
	num := func(v *float64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatFloat(*v, 'f', 2, 64)
	}
	for _, g := range append([]*sportello.StatsGroup{st.Total}, st.Groups...) {
		dim, key, label := "TOTALE", "", "Totale"
		if g != st.Total {
			dim, key, label = string(g.Dimension), g.Key, groupLabel(g)
		}
		s := g.Satisfaction
		out.Write([]string{dim, inert(key), inert(label), strconv.Itoa(g.Tickets), strconv.Itoa(g.Answered),
			strconv.Itoa(g.AnsweredOnTime), num(g.OnTimeShare), strconv.Itoa(g.Open), strconv.Itoa(g.Overdue),
			num(g.FirstResponse.MedianOfficeHours), num(g.FirstResponse.P90OfficeHours), num(g.FirstResponse.MedianDays),
			num(g.FirstResponse.P90Days), num(g.Resolution.MedianOfficeHours), num(g.Resolution.P90OfficeHours),
			num(g.Resolution.MedianDays), num(g.Resolution.P90Days), strconv.Itoa(s.Positive), strconv.Itoa(s.Neutral),
			strconv.Itoa(s.Negative), num(s.CSAT), num(s.AverageRating)})
	}
	out.Flush()
	return out.Error()
}

// inert keeps a spreadsheet from running a cell as a formula: text that starts like one gets a
// leading apostrophe, which spreadsheets show as text and hide.
func inert(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
