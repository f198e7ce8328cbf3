// Package report draws the office's reports from the domain's figures: the six-monthly report to
// the mayor as PDF and HTML, with its charts drawn here (bars and lines into the PDF, inline SVG
// into the HTML, so every word is Italian and nothing is fetched), and the registers and
// statistics as CSV and XLSX for the offices that work in spreadsheets. It performs no I/O
// beyond the writer it is given.
package report

import (
	"fmt"
	"math"
	"strings"
	"time"

	sportello "github.com/sportello/sportello"
)

// Semiannual is what the six-monthly report to the mayor shows: the statistics of the half year
// with every dimension.
type Semiannual struct {
	Year  int
	Half  int
	Stats *sportello.Statistics
}

// Dimensions are the groupings the report needs from the statistics.
var Dimensions = []sportello.StatsDimension{sportello.ByKind, sportello.ByChannel, sportello.ByOffice,
	sportello.ByStatus, sportello.ByMonth}

var kindNames = map[sportello.Kind]string{
	sportello.KindInformation: "Informazioni", sportello.KindAssistance: "Assistenza", sportello.KindPetition: "Istanze",
	sportello.KindProposal: "Proposte", sportello.KindComplaint: "Reclami", sportello.KindReport: "Segnalazioni",
	sportello.KindSuggestion: "Suggerimenti", sportello.KindRecordsAccess: "Accesso agli atti",
}

var channelNames = map[sportello.Channel]string{
	sportello.ChannelWeb: "Portale web", sportello.ChannelApp: "App", sportello.ChannelCounter: "Sportello",
	sportello.ChannelPhone: "Telefono", sportello.ChannelEmail: "E-mail", sportello.ChannelPEC: "PEC",
	sportello.ChannelPost: "Posta", sportello.ChannelSocial: "Social",
}

var statusNames = map[sportello.Status]string{
	sportello.StatusSubmitted: "Ricevute", sportello.StatusInProgress: "In lavorazione",
	sportello.StatusWaitingForCitizen: "In attesa del cittadino", sportello.StatusResolved: "Risolte",
	sportello.StatusRejected: "Respinte", sportello.StatusClosed: "Chiuse",
}

var outcomeNames = map[sportello.AccessOutcome]string{
	sportello.AccessGranted: "accolte", sportello.AccessPartiallyGranted: "accolte in parte",
	sportello.AccessDenied: "respinte", sportello.AccessDeferred: "differite", "": "in istruttoria",
}

var feedbackNames = map[sportello.FeedbackLevel]string{
	sportello.FeedbackPositive: "Positivo", sportello.FeedbackNeutral: "Neutro", sportello.FeedbackNegative: "Negativo",
}

var monthNames = [...]string{"", "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto",
	"settembre", "ottobre", "novembre", "dicembre"}

// KindName is the Italian name of a kind of request, in the plural.
func KindName(k sportello.Kind) string { return nameOr(kindNames[k], string(k)) }

// ChannelName is the Italian name of a channel.
func ChannelName(c sportello.Channel) string { return nameOr(channelNames[c], string(c)) }

// StatusName is the Italian name of a status, in the plural.
func StatusName(s sportello.Status) string { return nameOr(statusNames[s], string(s)) }

func nameOr(name, key string) string {
	if name == "" {
		return key
	}
	return name
}

// groupLabel is the Italian label of a group of the statistics.
func groupLabel(g *sportello.StatsGroup) string {
	switch g.Dimension {
	case sportello.ByKind:
		return KindName(sportello.Kind(g.Key))
	case sportello.ByChannel:
		return ChannelName(sportello.Channel(g.Key))
	case sportello.ByStatus:
		return StatusName(sportello.Status(g.Key))
	case sportello.ByOffice:
		if g.Key == "" {
			return "Non ancora assegnate"
		}
		return g.Label
	case sportello.ByMonth:
		var y, m int
		if _, err := fmt.Sscanf(g.Key, "%d-%d", &y, &m); err == nil && m >= 1 && m <= 12 {
			return monthNames[m] + " " + fmt.Sprint(y)
		}
	}
	return g.Key
}

// HalfName is "primo semestre 2026" or "secondo semestre 2026".
func HalfName(year, half int) string {
	if half == 1 {
		return fmt.Sprintf("primo semestre %d", year)
	}
	return fmt.Sprintf("secondo semestre %d", year)
}

// Integer writes n with Italian thousands separators: 1.234.567.
func Integer(n int) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte('.')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Decimal writes v with one decimal and a decimal comma, "–" for nil.
func Decimal(v *float64) string {
	if v == nil {
		return "–"
	}
	r := math.Round(*v*10) / 10
	whole := int(math.Trunc(r))
	tenths := int(math.Round(math.Abs(r-float64(whole)) * 10))
	sign := ""
	if r < 0 && whole == 0 {
		sign = "-"
	}
	return fmt.Sprintf("%s%s,%d", sign, Integer(whole), tenths)
}

// Percent writes a share as "87,5%", "–" for nil.
func Percent(v *float64) string {
	if v == nil {
		return "–"
	}
	return Decimal(v) + "%"
}

// date writes an instant's day in Rome as 02/01/2006.
func date(t time.Time) string { return t.In(sportello.Rome).Format("02/01/2006") }

// Summary is the page a mayor reads in a minute: four figures and a few sentences.
type Summary struct {
	Figures   []Figure
	Sentences []string
}

// Figure is one of the key figures of the summary.
type Figure struct {
	Value string
	Label string
}

// Summarize writes the summary of the half year.
func Summarize(r *Semiannual) Summary {
	st := r.Stats
	t := st.Total
	var s Summary
	medianDays := t.Resolution.MedianDays
	s.Figures = []Figure{
		{Integer(t.Tickets), "richieste ricevute"},
		{Percent(t.OnTimeShare), "risposte entro il termine"},
		{Decimal(medianDays) + " gg", "tempo mediano di risposta"},
		{Percent(t.Satisfaction.CSAT), "cittadini soddisfatti"},
	}
	byKind := st.GroupsBy(sportello.ByKind)
	complaints := 0
	for _, g := range byKind {
		if sportello.Kind(g.Key) == sportello.KindComplaint || sportello.Kind(g.Key) == sportello.KindReport {
			complaints += g.Tickets
		}
	}
	s.Sentences = append(s.Sentences, fmt.Sprintf("Nel %s l'Ufficio Relazioni con il Pubblico ha ricevuto %s richieste, di cui %s tra reclami e segnalazioni.",
		HalfName(r.Year, r.Half), Integer(t.Tickets), Integer(complaints)))
	if top := largest(st.GroupsBy(sportello.ByChannel)); top != nil && t.Tickets > 0 {
		s.Sentences = append(s.Sentences, fmt.Sprintf("Il canale più usato è %s (%s delle richieste).",
			strings.ToLower(ChannelName(sportello.Channel(top.Key))), Percent(sportello.Share(top.Tickets, t.Tickets))))
	}
	if t.Answered > 0 {
		s.Sentences = append(s.Sentences, fmt.Sprintf("Gli uffici hanno risposto a %s richieste (entro il termine di legge: %s); metà delle risposte è arrivata entro %s giorni e nove su dieci entro %s giorni.",
			Integer(t.Answered), Percent(t.OnTimeShare), Decimal(t.Resolution.MedianDays), Decimal(t.Resolution.P90Days)))
	}
	if t.FirstResponse.MedianOfficeHours != nil {
		s.Sentences = append(s.Sentences, fmt.Sprintf("Il primo riscontro al cittadino arriva in mediana dopo %s ore di apertura degli uffici.",
			Decimal(t.FirstResponse.MedianOfficeHours)))
	}
	s.Sentences = append(s.Sentences, fmt.Sprintf("Sono ancora aperte %s richieste del semestre, di cui %s oltre il termine.",
		Integer(t.Open), Integer(t.Overdue)))
	if n := t.Satisfaction.Total(); n > 0 {
		s.Sentences = append(s.Sentences, fmt.Sprintf("Su %s giudizi lasciati dai cittadini, %s sono positivi, %s neutri e %s negativi (soddisfatti: %s).",
			Integer(n), Integer(t.Satisfaction.Positive), Integer(t.Satisfaction.Neutral), Integer(t.Satisfaction.Negative),
			Percent(t.Satisfaction.CSAT)))
	}
	if len(st.RecordsAccess) > 0 {
		var parts []string
		total := 0
		for _, o := range st.RecordsAccess {
			total += o.Count
			parts = append(parts, Integer(o.Count)+" "+outcomeNames[o.Outcome])
		}
		s.Sentences = append(s.Sentences, fmt.Sprintf("Le richieste di accesso agli atti sono state %s: %s.",
			Integer(total), strings.Join(parts, ", ")))
	}
	return s
}

func largest(groups []*sportello.StatsGroup) *sportello.StatsGroup {
	var top *sportello.StatsGroup
	for _, g := range groups {
		if top == nil || g.Tickets > top.Tickets {
			top = g
		}
	}
	return top
}

// Chart is a chart of the report, drawn the same way in the PDF and in the HTML.
type Chart struct {
	Title string
	Note  string
	Kind  ChartKind
	// Series names the values of each row (the parts of a stacked bar), with their colours.
	Series []Series
	Rows   []ChartRow
	// Max is the value of a full bar; 0 means the largest row.
	Max float64
}

// ChartKind is how a chart is drawn.
type ChartKind int

// The kinds of chart.
const (
	// Bars are horizontal bars, one per row, of the first value.
	Bars ChartKind = iota
	// Stacked bars split each row into its values, left to right.
	Stacked
	// Line joins the first value of the rows, left to right.
	Line
)

// Series is one value of the rows of a chart.
type Series struct {
	Name  string
	Color [3]int
}

// ChartRow is one bar, or one point of a line.
type ChartRow struct {
	Label  string
	Values []float64
	// Text is written beside the bar or above the point.
	Text string
}

var (
	blue  = [3]int{31, 94, 160}
	green = [3]int{46, 139, 87}
	grey  = [3]int{170, 170, 170}
	red   = [3]int{200, 60, 50}
)

// Charts returns the report's charts: tickets by kind and by channel, the monthly trend, answers
// against their deadlines, and satisfaction by office.
func Charts(r *Semiannual) []Chart {
	st := r.Stats
	count := func(title string, d sportello.StatsDimension) Chart {
		c := Chart{Title: title, Kind: Bars, Series: []Series{{"Richieste", blue}}}
		for _, g := range st.GroupsBy(d) {
			c.Rows = append(c.Rows, ChartRow{Label: groupLabel(g), Values: []float64{float64(g.Tickets)}, Text: Integer(g.Tickets)})
		}
		return c
	}
	trend := count("Andamento mensile delle richieste", sportello.ByMonth)
	trend.Kind = Line
	onTime := Chart{Title: "Risposte entro il termine, per tipo di richiesta", Kind: Bars, Max: 100,
		Note:   "Quota delle richieste con risposta arrivata entro la scadenza; tra parentesi il tempo mediano di risposta in giorni.",
		Series: []Series{{"Entro il termine", green}}}
	for _, g := range st.GroupsBy(sportello.ByKind) {
		if g.OnTimeShare == nil {
			continue
		}
		onTime.Rows = append(onTime.Rows, ChartRow{Label: groupLabel(g), Values: []float64{*g.OnTimeShare},
			Text: Percent(g.OnTimeShare) + " (" + Decimal(g.Resolution.MedianDays) + " gg)"})
	}
	satisfaction := Chart{Title: "Soddisfazione dei cittadini, per ufficio", Kind: Stacked, Max: 100,
		Note:   "Giudizi \"Mettiamoci la faccia\" lasciati sulle richieste risolte.",
		Series: []Series{{"Positivo", green}, {"Neutro", grey}, {"Negativo", red}}}
	for _, g := range st.GroupsBy(sportello.ByOffice) {
		sat := g.Satisfaction
		n := sat.Total()
		if n == 0 {
			continue
		}
		share := func(k int) float64 { return 100 * float64(k) / float64(n) }
		satisfaction.Rows = append(satisfaction.Rows, ChartRow{Label: groupLabel(g),
			Values: []float64{share(sat.Positive), share(sat.Neutral), share(sat.Negative)},
			Text:   Percent(sat.CSAT) + " su " + Integer(n)})
	}
	return []Chart{
		count("Richieste per tipo", sportello.ByKind),
		count("Richieste per canale", sportello.ByChannel),
		trend, onTime, satisfaction,
	}
}

// max returns the value of a full bar.
func (c *Chart) max() float64 {
	if c.Max > 0 {
		return c.Max
	}
	m := 0.0
	for _, r := range c.Rows {
		total := 0.0
		for _, v := range r.Values {
			total += v
		}
		m = math.Max(m, total)
	}
	if m == 0 {
		return 1
	}
	return m
}

// Table is a table of the report.
type Table struct {
	Title   string
	Columns []string
	Rows    [][]string
}

// Tables returns the report's tables: by office, by kind and by channel, with every figure.
func Tables(r *Semiannual) []Table {
	columns := []string{"", "Richieste", "Risposte", "Nei termini", "Mediana gg", "90% entro gg",
		"Mediana ore uff.", "Aperte oltre termine", "Soddisfatti"}
	table := func(title string, d sportello.StatsDimension) Table {
		cols := append([]string(nil), columns...)
		cols[0] = title
		t := Table{Title: "Dettaglio per " + strings.ToLower(title), Columns: cols}
		for _, g := range append(r.Stats.GroupsBy(d), r.Stats.Total) {
			label := groupLabel(g)
			if g == r.Stats.Total {
				label = "Totale"
			}
			t.Rows = append(t.Rows, []string{label, Integer(g.Tickets), Integer(g.Answered), Percent(g.OnTimeShare),
				Decimal(g.Resolution.MedianDays), Decimal(g.Resolution.P90Days), Decimal(g.Resolution.MedianOfficeHours),
				Integer(g.Overdue), Percent(g.Satisfaction.CSAT)})
		}
		return t
	}
	return []Table{table("Ufficio", sportello.ByOffice), table("Tipo", sportello.ByKind), table("Canale", sportello.ByChannel)}
}
