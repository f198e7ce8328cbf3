// Package oppfile reads and writes the youth desk's opportunities as JSON or CSV feeds, and
// imports them through the domain, one row at a time.
//
// Our own format. JSON is an object with a list of opportunities whose fields are those of the
// GraphQL OpportunityInput, with the office named by its name and days as YYYY-MM-DD:
//
//	{"opportunities": [{"source": "EURODESK", "externalRef": "ED-2026-0042", "category": "VOLUNTEERING",
//	  "title": "...", "organisation": "...", "country": "ES", "remote": false, "latitude": 41.38,
//	  "longitude": 2.17, "minAge": 18, "maxAge": 30, "languages": ["en", "es"], "deadline": "2026-12-15",
//	  "topics": ["corpo europeo di solidarietà"], "office": "Informagiovani", "status": "PUBLISHED"}]}
//
// CSV has a header row with the same names (Columns) and one opportunity per row; lists are
// separated by `|`, booleans are true/false (also yes/no, si/no, 1/0). A row without a status is
// PUBLISHED, without a source LOCAL; a row with `withdrawn` true is WITHDRAWN whatever its status.
//
// A partner's CSV is read through a mapping file (JSON) that names, for each of our fields, the
// partner's column, and optionally maps the partner's values of category and source to ours,
// gives defaults for fields the partner has no column for, the partner's date layout (Go's
// reference date) and list separator:
//
//	{"columns": {"title": "Titolo", "category": "Tipologia", "deadline": "Scadenza", "externalRef": "Codice"},
//	 "values": {"category": {"Lavoro": "JOB", "Tirocinio": "INTERNSHIP"}},
//	 "defaults": {"source": "EURODESK", "country": "IT"},
//	 "dateLayout": "02/01/2006", "listSeparator": ";"}
//
// Rows are numbered as a spreadsheet shows them: the header is row 1, so the first opportunity
// of a CSV is row 2; the first of a JSON list is row 1.
package oppfile

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	sportello "github.com/sportello/sportello"
)

// Opportunity is an opportunity as the files write it.
type Opportunity struct {
	Source         string   `json:"source,omitempty"`
	ExternalRef    string   `json:"externalRef,omitempty"`
	Category       string   `json:"category"`
	Title          string   `json:"title"`
	Description    string   `json:"description,omitempty"`
	Organisation   string   `json:"organisation,omitempty"`
	Municipality   string   `json:"municipality,omitempty"`
	Region         string   `json:"region,omitempty"`
	Country        string   `json:"country,omitempty"`
	Remote         bool     `json:"remote,omitempty"`
	Latitude       *float64 `json:"latitude,omitempty"`
	Longitude      *float64 `json:"longitude,omitempty"`
	Address        string   `json:"address,omitempty"`
	MinAge         int      `json:"minAge,omitempty"`
	MaxAge         int      `json:"maxAge,omitempty"`
	Languages      []string `json:"languages,omitempty"`
	EducationLevel string   `json:"educationLevel,omitempty"`
	StartDate      string   `json:"startDate,omitempty"`
	EndDate        string   `json:"endDate,omitempty"`
	Deadline       string   `json:"deadline,omitempty"`
	HowToApply     string   `json:"howToApply,omitempty"`
	URL            string   `json:"url,omitempty"`
	Costs          string   `json:"costs,omitempty"`
	Topics         []string `json:"topics,omitempty"`
	Office         string   `json:"office,omitempty"`
	Status         string   `json:"status,omitempty"`
	Withdrawn      bool     `json:"withdrawn,omitempty"`
}

// File is the JSON form of a feed.
type File struct {
	Opportunities []Opportunity `json:"opportunities"`
}

// Columns are the columns of our CSV form, in the order Write writes them.
var Columns = []string{"source", "externalRef", "category", "title", "description", "organisation", "municipality",
	"region", "country", "remote", "latitude", "longitude", "address", "minAge", "maxAge", "languages",
	"educationLevel", "startDate", "endDate", "deadline", "howToApply", "url", "costs", "topics", "office", "status",
	"withdrawn"}

// Mapping reads a partner's CSV: see the package comment.
type Mapping struct {
	Columns       map[string]string            `json:"columns"`
	Values        map[string]map[string]string `json:"values"`
	Defaults      map[string]string            `json:"defaults"`
	DateLayout    string                       `json:"dateLayout"`
	ListSeparator string                       `json:"listSeparator"`
}

// ReadMapping reads a mapping file and checks that it names only our fields.
func ReadMapping(r io.Reader) (*Mapping, error) {
	var m Mapping
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("read mapping: %w", err)
	}
	for _, group := range []map[string]string{m.Columns, m.Defaults} {
		for field := range group {
			if !slices.Contains(Columns, field) {
				return nil, fmt.Errorf("mapping: unknown field %q (known: %s)", field, strings.Join(Columns, ", "))
			}
		}
	}
	for field := range m.Values {
		if !slices.Contains(Columns, field) {
			return nil, fmt.Errorf("mapping: unknown field %q in values", field)
		}
	}
	return &m, nil
}

// Entry is one row read from a feed: Opportunity, or Err saying why the row could not be read.
type Entry struct {
	Row         string // "row 5"
	Opportunity *Opportunity
	Err         error
}

// Read reads the rows of a feed; name's extension (.json or .csv) says the format, and mapping,
// when not nil, reads a partner's CSV. It fails only when the file as a whole cannot be read.
func Read(name string, r io.Reader, mapping *Mapping) ([]Entry, error) {
	switch ext := strings.ToLower(filepath.Ext(name)); {
	case ext == ".json" && mapping == nil:
		var f File
		dec := json.NewDecoder(r)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			return nil, fmt.Errorf("read JSON: %w", err)
		}
		out := make([]Entry, len(f.Opportunities))
		for i := range f.Opportunities {
			out[i] = Entry{Row: fmt.Sprintf("row %d", i+1), Opportunity: &f.Opportunities[i]}
		}
		return out, nil
	case ext == ".json":
		return nil, errors.New("a mapping reads CSV files only")
	case ext == ".csv":
		return readCSV(r, mapping)
	default:
		return nil, fmt.Errorf("%s: the file must end in .json or .csv", name)
	}
}

func readCSV(r io.Reader, m *Mapping) ([]Entry, error) {
	if m == nil {
		m = &Mapping{}
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read CSV header: %w", err)
	}
	byName := map[string]int{}
	for i, h := range header {
		byName[strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))] = i // spreadsheets often start with a BOM
	}
	// col maps each of our fields to its column in the file.
	col := map[string]int{}
	for _, field := range Columns {
		name := field
		if mapped, ok := m.Columns[field]; ok {
			name = mapped
		} else if len(m.Columns) > 0 {
			continue
		}
		if i, ok := byName[name]; ok {
			col[field] = i
		} else if len(m.Columns) > 0 {
			return nil, fmt.Errorf("CSV header: the column %q (for %s) is missing", name, field)
		}
	}
	if len(m.Columns) == 0 {
		for name := range byName {
			if !slices.Contains(Columns, name) {
				return nil, fmt.Errorf("CSV header: unknown column %q (known: %s; give a mapping for a partner's columns)",
					name, strings.Join(Columns, ", "))
			}
		}
	}
	sep := m.ListSeparator
	if sep == "" {
		sep = "|"
	}
	layout := m.DateLayout
	if layout == "" {
		layout = time.DateOnly
	}
	var out []Entry
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return nil, fmt.Errorf("read CSV: %w", err)
			}
			out = append(out, Entry{Row: fmt.Sprintf("row %d", pe.Line), Err: sportello.InvalidField("", "malformed CSV: %v", pe.Err)})
			continue
		}
		line, _ := cr.FieldPos(0)
		row := csvRow{rec: rec, col: col, m: m, sep: sep, layout: layout}
		o, err := row.opportunity()
		out = append(out, Entry{Row: fmt.Sprintf("row %d", line), Opportunity: o, Err: err})
	}
}

type csvRow struct {
	rec    []string
	col    map[string]int
	m      *Mapping
	sep    string
	layout string
}

// get returns our field's value: the mapped column's, translated by the value map, or the
// default.
func (r csvRow) get(field string) string {
	v := ""
	if i, ok := r.col[field]; ok && i < len(r.rec) {
		v = strings.TrimSpace(r.rec[i])
	}
	if v == "" {
		return r.m.Defaults[field]
	}
	if mapped, ok := r.m.Values[field][v]; ok {
		return mapped
	}
	return v
}

func (r csvRow) list(field string) []string {
	var out []string
	for _, s := range strings.Split(r.get(field), r.sep) {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (r csvRow) int(field string) (int, error) {
	s := r.get(field)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, sportello.InvalidField(field, "must be a whole number, not %q", s)
	}
	return n, nil
}

func (r csvRow) float(field string) (*float64, error) {
	s := r.get(field)
	if s == "" {
		return nil, nil
	}
	f, err := strconv.ParseFloat(strings.Replace(s, ",", ".", 1), 64)
	if err != nil {
		return nil, sportello.InvalidField(field, "must be a number, not %q", s)
	}
	return &f, nil
}

func (r csvRow) bool(field string) (bool, error) {
	switch s := strings.ToLower(r.get(field)); s {
	case "", "false", "no", "0":
		return false, nil
	case "true", "yes", "si", "sì", "1":
		return true, nil
	default:
		return false, sportello.InvalidField(field, "must be true or false, not %q", s)
	}
}

// date returns a day of the row as YYYY-MM-DD, reading it in the mapping's layout.
func (r csvRow) date(field string) (string, error) {
	s := r.get(field)
	if s == "" {
		return "", nil
	}
	t, err := time.Parse(r.layout, s)
	if err != nil && r.layout == time.DateOnly {
		return "", sportello.InvalidField(field, "must be a date YYYY-MM-DD, not %q", s)
	}
	if err != nil {
		return "", sportello.InvalidField(field, "must be a date as %s, not %q", r.layout, s)
	}
	return t.Format(time.DateOnly), nil
}

func (r csvRow) opportunity() (*Opportunity, error) {
	o := &Opportunity{Source: r.get("source"), ExternalRef: r.get("externalRef"), Category: r.get("category"),
		Title: r.get("title"), Description: r.get("description"), Organisation: r.get("organisation"),
		Municipality: r.get("municipality"), Region: r.get("region"), Country: r.get("country"),
		Address: r.get("address"), Languages: r.list("languages"), EducationLevel: r.get("educationLevel"),
		HowToApply: r.get("howToApply"), URL: r.get("url"), Costs: r.get("costs"), Topics: r.list("topics"),
		Office: r.get("office"), Status: r.get("status")}
	var err error
	steps := []func() error{
		func() error { o.Remote, err = r.bool("remote"); return err },
		func() error { o.Withdrawn, err = r.bool("withdrawn"); return err },
		func() error { o.Latitude, err = r.float("latitude"); return err },
		func() error { o.Longitude, err = r.float("longitude"); return err },
		func() error { o.MinAge, err = r.int("minAge"); return err },
		func() error { o.MaxAge, err = r.int("maxAge"); return err },
		func() error { o.StartDate, err = r.date("startDate"); return err },
		func() error { o.EndDate, err = r.date("endDate"); return err },
		func() error { o.Deadline, err = r.date("deadline"); return err },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return o, err
		}
	}
	return o, nil
}

// Rejection is a row the import refused, and why.
type Rejection = sportello.ImportRejection

// Report is what an import did.
type Report struct {
	sportello.ImportTally
	// Withdrawn counts the opportunities a full feed no longer listed.
	Withdrawn int
}

// Import writes the rows through imp, each in its own transaction, so that a bad row is
// reported and the others are imported. Offices are named by name, matched without regard to
// case. With full, the feed is the whole list of its sources: afterwards, every opportunity of a
// source the feed lists that the feed does not list is withdrawn (a rejected row still counts
// as listed, so a typo never withdraws an opportunity). progress, if not nil, is told after each
// row. Import stops at the first error that is not a rejection of the row.
func Import(ctx context.Context, imp sportello.OpportunityImporter, offices []*sportello.Office, entries []Entry, full bool,
	progress func(done, total int)) (*Report, error) {
	byName := make(map[string]string, len(offices))
	for _, o := range offices {
		byName[strings.ToLower(strings.TrimSpace(o.Name))] = o.ID
	}
	rep := &Report{}
	listed := map[sportello.OpportunitySource][]string{}
	for i, e := range entries {
		in, err := e.input(byName)
		if e.Opportunity != nil {
			src := source(e.Opportunity.Source)
			listed[src] = append(listed[src], strings.TrimSpace(e.Opportunity.ExternalRef))
		}
		var outcome sportello.UpsertOutcome
		if err == nil {
			outcome, err = imp.UpsertOpportunity(ctx, in)
		}
		if err := rep.Count(e.Row, outcome, err); err != nil {
			return rep, err
		}
		if progress != nil {
			progress(i+1, len(entries))
		}
	}
	if full {
		for src, refs := range listed {
			if !src.Valid() {
				continue
			}
			n, err := imp.WithdrawMissing(ctx, src, refs)
			if err != nil {
				return rep, err
			}
			rep.Withdrawn += n
		}
	}
	return rep, nil
}

func source(s string) sportello.OpportunitySource {
	if s = strings.ToUpper(strings.TrimSpace(s)); s == "" {
		return sportello.SourceLocal
	}
	return sportello.OpportunitySource(s)
}

// input turns a row into the domain's input.
func (e Entry) input(offices map[string]string) (sportello.OpportunityInput, error) {
	if e.Err != nil {
		return sportello.OpportunityInput{}, e.Err
	}
	o := e.Opportunity
	in := sportello.OpportunityInput{Category: sportello.OpportunityCategory(strings.ToUpper(strings.TrimSpace(o.Category))),
		Title: o.Title, Description: o.Description, Organisation: o.Organisation, Municipality: o.Municipality,
		Region: o.Region, Country: o.Country, Remote: o.Remote, MinAge: o.MinAge, MaxAge: o.MaxAge,
		Languages: o.Languages, EducationLevel: o.EducationLevel, HowToApply: o.HowToApply, URL: o.URL, Costs: o.Costs,
		Source: source(o.Source), ExternalRef: o.ExternalRef, Topics: o.Topics,
		Status: sportello.OpportunityStatus(strings.ToUpper(strings.TrimSpace(o.Status)))}
	if in.Status == "" {
		in.Status = sportello.OpportunityPublished
	}
	if o.Withdrawn {
		in.Status = sportello.OpportunityWithdrawn
	}
	if (o.Latitude == nil) != (o.Longitude == nil) {
		return in, sportello.InvalidField("longitude", "give both latitude and longitude, or neither")
	}
	if o.Latitude != nil || o.Address != "" {
		in.Location = &sportello.Location{Address: o.Address}
		if o.Latitude != nil {
			in.Location.Latitude, in.Location.Longitude = *o.Latitude, *o.Longitude
		}
	}
	if name := strings.TrimSpace(o.Office); name != "" {
		id, ok := offices[strings.ToLower(name)]
		if !ok {
			return in, sportello.InvalidField("office", "no office is named %q", name)
		}
		in.OfficeID = id
	}
	for _, d := range []struct {
		field, value string
		dest         **sportello.Date
	}{{"startDate", o.StartDate, &in.StartDate}, {"endDate", o.EndDate, &in.EndDate}, {"deadline", o.Deadline, &in.Deadline}} {
		if strings.TrimSpace(d.value) == "" {
			continue
		}
		day, err := sportello.ParseDate(d.field, d.value)
		if err != nil {
			return in, err
		}
		*d.dest = &day
	}
	return in, nil
}

// Write writes the opportunities to w in the format of name's extension (.json or .csv), in
// our own format, naming offices by their names, so that the file imports back.
func Write(name string, w io.Writer, opportunities []*sportello.Opportunity, officeNames map[string]string) error {
	f := File{Opportunities: make([]Opportunity, len(opportunities))}
	for i, o := range opportunities {
		out := Opportunity{Source: string(o.Source), ExternalRef: o.ExternalRef, Category: string(o.Category),
			Title: o.Title, Description: o.Description, Organisation: o.Organisation, Municipality: o.Municipality,
			Region: o.Region, Country: o.Country, Remote: o.Remote, MinAge: o.MinAge, MaxAge: o.MaxAge,
			Languages: o.Languages, EducationLevel: o.EducationLevel, StartDate: formatDate(o.StartDate),
			EndDate: formatDate(o.EndDate), Deadline: formatDate(o.Deadline), HowToApply: o.HowToApply, URL: o.URL,
			Costs: o.Costs, Topics: o.Topics, Office: officeNames[o.OfficeID], Status: string(o.Status)}
		if l := o.Location; l != nil {
			out.Address = l.Address
			if l.HasCoordinates() {
				lat, lon := l.Latitude, l.Longitude
				out.Latitude, out.Longitude = &lat, &lon
			}
		}
		f.Opportunities[i] = out
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(f)
	case ".csv":
		return writeCSV(w, f.Opportunities)
	default:
		return fmt.Errorf("%s: the file must end in .json or .csv", name)
	}
}

func formatDate(d *sportello.Date) string {
	if d == nil {
		return ""
	}
	return d.String()
}

func writeCSV(w io.Writer, opportunities []Opportunity) error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(Columns)
	join := func(xs []string) string { return strings.Join(xs, " | ") }
	num := func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', -1, 64)
	}
	age := func(n int) string {
		if n == 0 {
			return ""
		}
		return strconv.Itoa(n)
	}
	for _, o := range opportunities {
		cw.Write([]string{o.Source, o.ExternalRef, o.Category, o.Title, o.Description, o.Organisation, o.Municipality,
			o.Region, o.Country, strconv.FormatBool(o.Remote), num(o.Latitude), num(o.Longitude), o.Address, age(o.MinAge),
			age(o.MaxAge), join(o.Languages), o.EducationLevel, o.StartDate, o.EndDate, o.Deadline, o.HowToApply, o.URL,
			o.Costs, join(o.Topics), o.Office, o.Status, "false"})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
