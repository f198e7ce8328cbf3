// Package catfile reads and writes the catalogue of services, procedures and acts as JSON or
// CSV files, and imports them through the domain, one row at a time.
//
// JSON is an object with three lists, whose fields are those of the GraphQL inputs, with the
// office named by its name and dates as YYYY-MM-DD:
//
//	{"services":   [{"slug": "carta-identita-elettronica", "title": "...", "summary": "...", "office": "Anagrafe e Stato Civile", "channels": ["WEB", "COUNTER"], "topics": ["documenti"], "status": "PUBLISHED", ...}],
//	 "procedures": [{"code": "ANA-01", "name": "...", "legalBasis": "...", "office": "...", "maxDays": 30, "silentConsent": false, "steps": ["..."], ...}],
//	 "acts":       [{"type": "ORDINANCE", "number": 12, "year": 2026, "date": "2026-03-02", "title": "...", "publishedFrom": "2026-03-03", "publishedUntil": "2026-03-17", ...}]}
//
// CSV has a header row and one entry per row; the column `type` says what the row is
// (service, procedure or act), the other columns are the JSON fields (the act's own type is
// `actType`), lists are separated by `|`, and a column a row's type does not use is left empty.
// A row without a status is PUBLISHED: an imported catalogue is one already in use.
package catfile

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

// Service is a service as the files write it.
type Service struct {
	Slug         string   `json:"slug,omitempty"`
	Title        string   `json:"title"`
	Summary      string   `json:"summary"`
	Description  string   `json:"description,omitempty"`
	Audience     string   `json:"audience,omitempty"`
	Office       string   `json:"office,omitempty"`
	Eligibility  string   `json:"eligibility,omitempty"`
	Requirements []string `json:"requirements,omitempty"`
	Costs        string   `json:"costs,omitempty"`
	HowToApply   string   `json:"howToApply,omitempty"`
	Channels     []string `json:"channels,omitempty"`
	OnlineURL    string   `json:"onlineUrl,omitempty"`
	ExpectedTime string   `json:"expectedTime,omitempty"`
	LegalBasis   string   `json:"legalBasis,omitempty"`
	Topics       []string `json:"topics,omitempty"`
	Status       string   `json:"status,omitempty"`
}

// Procedure is a procedure as the files write it.
type Procedure struct {
	Code          string   `json:"code,omitempty"`
	Name          string   `json:"name"`
	Description   string   `json:"description,omitempty"`
	LegalBasis    string   `json:"legalBasis"`
	Office        string   `json:"office"`
	Officer       string   `json:"officer,omitempty"`
	MaxDays       int      `json:"maxDays"`
	SilentConsent bool     `json:"silentConsent"`
	Steps         []string `json:"steps,omitempty"`
	Topics        []string `json:"topics,omitempty"`
	Status        string   `json:"status,omitempty"`
}

// Act is an act as the files write it.
type Act struct {
	Type           string `json:"type"`
	Number         int    `json:"number"`
	Year           int    `json:"year,omitempty"`
	Date           string `json:"date"`
	Title          string `json:"title"`
	Summary        string `json:"summary,omitempty"`
	Office         string `json:"office,omitempty"`
	PublishedFrom  string `json:"publishedFrom,omitempty"`
	PublishedUntil string `json:"publishedUntil,omitempty"`
	DocumentURL    string `json:"documentUrl,omitempty"`
	Status         string `json:"status,omitempty"`
}

// File is the JSON form of a catalogue.
type File struct {
	Services   []Service   `json:"services"`
	Procedures []Procedure `json:"procedures"`
	Acts       []Act       `json:"acts"`
}

// Entry is one entry read from a file: exactly one of Service, Procedure and Act is set, or Err
// says why the row could not even be read.
type Entry struct {
	Row       string // where the entry is in the file: "services[3]" or "line 5"
	Service   *Service
	Procedure *Procedure
	Act       *Act
	Err       error
}

// Read reads the entries of a catalogue file; name's extension (.json or .csv) says the format.
// It fails only when the file as a whole cannot be read: a bad row becomes an Entry with Err.
func Read(name string, r io.Reader) ([]Entry, error) {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return readJSON(r)
	case ".csv":
		return readCSV(r)
	default:
		return nil, fmt.Errorf("%s: the file must end in .json or .csv", name)
	}
}

func readJSON(r io.Reader) ([]Entry, error) {
	var f File
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("read JSON: %w", err)
	}
	var out []Entry
	for i := range f.Services {
		out = append(out, Entry{Row: fmt.Sprintf("services[%d]", i), Service: &f.Services[i]})
	}
	for i := range f.Procedures {
		out = append(out, Entry{Row: fmt.Sprintf("procedures[%d]", i), Procedure: &f.Procedures[i]})
	}
	for i := range f.Acts {
		out = append(out, Entry{Row: fmt.Sprintf("acts[%d]", i), Act: &f.Acts[i]})
	}
	return out, nil
}

// Columns are the columns of the CSV form, in the order Write writes them.
var Columns = []string{"type", "slug", "code", "title", "name", "summary", "description", "audience", "office",
	"eligibility", "requirements", "costs", "howToApply", "channels", "onlineUrl", "expectedTime", "legalBasis",
	"officer", "maxDays", "silentConsent", "steps", "actType", "number", "year", "date", "publishedFrom",
	"publishedUntil", "documentUrl", "topics", "status"}

func readCSV(r io.Reader) ([]Entry, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read CSV header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")) // spreadsheets often start with a BOM
		if !slices.Contains(Columns, h) {
			return nil, fmt.Errorf("CSV header: unknown column %q (known: %s)", h, strings.Join(Columns, ", "))
		}
		col[h] = i
	}
	if _, ok := col["type"]; !ok {
		return nil, errors.New("CSV header: the column type is missing")
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
			out = append(out, Entry{Row: fmt.Sprintf("line %d", pe.Line), Err: sportello.InvalidField("", "malformed CSV: %v", pe.Err)})
			continue
		}
		line, _ := cr.FieldPos(0)
		e := Entry{Row: fmt.Sprintf("line %d", line)}
		c := csvRow{rec: rec, col: col}
		switch t := strings.ToLower(c.get("type")); t {
		case "service":
			e.Service = &Service{Slug: c.get("slug"), Title: c.get("title"), Summary: c.get("summary"),
				Description: c.get("description"), Audience: c.get("audience"), Office: c.get("office"),
				Eligibility: c.get("eligibility"), Requirements: c.list("requirements"), Costs: c.get("costs"),
				HowToApply: c.get("howToApply"), Channels: c.list("channels"), OnlineURL: c.get("onlineUrl"),
				ExpectedTime: c.get("expectedTime"), LegalBasis: c.get("legalBasis"), Topics: c.list("topics"),
				Status: c.get("status")}
		case "procedure":
			p := &Procedure{Code: c.get("code"), Name: c.get("name"), Description: c.get("description"),
				LegalBasis: c.get("legalBasis"), Office: c.get("office"), Officer: c.get("officer"),
				Steps: c.list("steps"), Topics: c.list("topics"), Status: c.get("status")}
			p.MaxDays, e.Err = c.int("maxDays")
			if e.Err == nil {
				p.SilentConsent, e.Err = c.bool("silentConsent")
			}
			e.Procedure = p
		case "act":
			a := &Act{Type: c.get("actType"), Date: c.get("date"), Title: c.get("title"), Summary: c.get("summary"),
				Office: c.get("office"), PublishedFrom: c.get("publishedFrom"), PublishedUntil: c.get("publishedUntil"),
				DocumentURL: c.get("documentUrl"), Status: c.get("status")}
			a.Number, e.Err = c.int("number")
			if e.Err == nil {
				a.Year, e.Err = c.int("year")
			}
			e.Act = a
		default:
			e.Err = sportello.InvalidField("type", "must be service, procedure or act, not %q", t)
		}
		out = append(out, e)
	}
}

type csvRow struct {
	rec []string
	col map[string]int
}

func (r csvRow) get(name string) string {
	i, ok := r.col[name]
	if !ok || i >= len(r.rec) {
		return ""
	}
	return strings.TrimSpace(r.rec[i])
}

func (r csvRow) list(name string) []string {
	var out []string
	for _, s := range strings.Split(r.get(name), "|") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func (r csvRow) int(name string) (int, error) {
	s := r.get(name)
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, sportello.InvalidField(name, "must be a whole number, not %q", s)
	}
	return n, nil
}

func (r csvRow) bool(name string) (bool, error) {
	switch strings.ToLower(r.get(name)) {
	case "", "false", "no", "0":
		return false, nil
	case "true", "yes", "si", "sì", "1":
		return true, nil
	default:
		return false, sportello.InvalidField(name, "must be true or false, not %q", r.get(name))
	}
}

// Rejection is an entry the import refused, and why.
type Rejection = sportello.ImportRejection

// Report is what an import did.
type Report struct {
	sportello.ImportTally
}

// Import writes the entries through imp, each in its own transaction, so that a bad row is
// reported and the others are imported. Offices are named by name, matched without regard to
// case. progress, if not nil, is told after each entry. Import stops at the first error that is
// not a rejection of the row (the database went away): the entries before it are imported.
func Import(ctx context.Context, imp sportello.CatalogueImporter, offices []*sportello.Office, entries []Entry, progress func(done, total int)) (*Report, error) {
	byName := make(map[string]string, len(offices))
	for _, o := range offices {
		byName[strings.ToLower(strings.TrimSpace(o.Name))] = o.ID
	}
	rep := &Report{}
	for i, e := range entries {
		outcome, err := importEntry(ctx, imp, byName, e)
		if err := rep.Count(e.Row, outcome, err); err != nil {
			return rep, err
		}
		if progress != nil {
			progress(i+1, len(entries))
		}
	}
	return rep, nil
}

func importEntry(ctx context.Context, imp sportello.CatalogueImporter, offices map[string]string, e Entry) (sportello.UpsertOutcome, error) {
	if e.Err != nil {
		return "", e.Err
	}
	office := func(name string) (string, error) {
		if name = strings.TrimSpace(name); name == "" {
			return "", nil
		}
		id, ok := offices[strings.ToLower(name)]
		if !ok {
			return "", sportello.InvalidField("office", "no office is named %q", name)
		}
		return id, nil
	}
	switch {
	case e.Service != nil:
		s := e.Service
		officeID, err := office(s.Office)
		if err != nil {
			return "", err
		}
		channels := make([]sportello.Channel, len(s.Channels))
		for i, c := range s.Channels {
			channels[i] = sportello.Channel(strings.ToUpper(c))
		}
		return imp.UpsertService(ctx, sportello.ServiceInput{Slug: s.Slug, Title: s.Title, Summary: s.Summary,
			Description: s.Description, Audience: s.Audience, OfficeID: officeID, Eligibility: s.Eligibility,
			Requirements: s.Requirements, Costs: s.Costs, HowToApply: s.HowToApply, Channels: channels,
			OnlineURL: s.OnlineURL, ExpectedTime: s.ExpectedTime, LegalBasis: s.LegalBasis, Topics: s.Topics,
			Status: status(s.Status)})
	case e.Procedure != nil:
		p := e.Procedure
		officeID, err := office(p.Office)
		if err != nil {
			return "", err
		}
		return imp.UpsertProcedure(ctx, sportello.ProcedureInput{Code: p.Code, Name: p.Name, Description: p.Description,
			LegalBasis: p.LegalBasis, OfficeID: officeID, Officer: p.Officer, MaxDays: p.MaxDays,
			SilentConsent: p.SilentConsent, Steps: p.Steps, Topics: p.Topics, Status: status(p.Status)})
	case e.Act != nil:
		a := e.Act
		officeID, err := office(a.Office)
		if err != nil {
			return "", err
		}
		in := sportello.ActInput{Type: sportello.ActType(strings.ToUpper(a.Type)), Number: a.Number, Year: a.Year,
			Title: a.Title, Summary: a.Summary, OfficeID: officeID, DocumentURL: a.DocumentURL, Status: status(a.Status)}
		if in.Date, err = parseDate("date", a.Date); err != nil {
			return "", err
		}
		for _, d := range []struct {
			field, value string
			dest         **sportello.Date
		}{{"publishedFrom", a.PublishedFrom, &in.PublishedFrom}, {"publishedUntil", a.PublishedUntil, &in.PublishedUntil}} {
			if d.value == "" {
				continue
			}
			t, err := parseDate(d.field, d.value)
			if err != nil {
				return "", err
			}
			*d.dest = &t
		}
		return imp.UpsertAct(ctx, in)
	default:
		return "", sportello.InvalidField("", "the entry is empty")
	}
}

// status reads a file's status: absent means PUBLISHED (see the package comment).
func status(s string) sportello.CatalogueStatus {
	if s = strings.ToUpper(strings.TrimSpace(s)); s == "" {
		return sportello.CataloguePublished
	}
	return sportello.CatalogueStatus(s)
}

func parseDate(field, s string) (sportello.Date, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return sportello.Date{}, sportello.InvalidField(field, "must not be empty")
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return sportello.Date{}, sportello.InvalidField(field, "must be a date as YYYY-MM-DD, not %q", s)
	}
	return sportello.Date{Year: t.Year(), Month: t.Month(), Day: t.Day()}, nil
}

// Write writes the catalogue to w in the format of name's extension (.json or .csv), naming
// offices by their names, so that the file imports back into the same or another municipality.
func Write(name string, w io.Writer, c *sportello.Catalogue, officeNames map[string]string) error {
	f := File{Services: []Service{}, Procedures: []Procedure{}, Acts: []Act{}}
	for _, s := range c.Services {
		channels := make([]string, len(s.Channels))
		for i, ch := range s.Channels {
			channels[i] = string(ch)
		}
		f.Services = append(f.Services, Service{Slug: s.Slug, Title: s.Title, Summary: s.Summary, Description: s.Description,
			Audience: s.Audience, Office: officeNames[s.OfficeID], Eligibility: s.Eligibility, Requirements: s.Requirements,
			Costs: s.Costs, HowToApply: s.HowToApply, Channels: channels, OnlineURL: s.OnlineURL, ExpectedTime: s.ExpectedTime,
			LegalBasis: s.LegalBasis, Topics: s.Topics, Status: string(s.Status)})
	}
	for _, p := range c.Procedures {
		f.Procedures = append(f.Procedures, Procedure{Code: p.Code, Name: p.Name, Description: p.Description,
			LegalBasis: p.LegalBasis, Office: officeNames[p.OfficeID], Officer: p.Officer, MaxDays: p.MaxDays,
			SilentConsent: p.SilentConsent, Steps: p.Steps, Topics: p.Topics, Status: string(p.Status)})
	}
	for _, a := range c.Acts {
		f.Acts = append(f.Acts, Act{Type: string(a.Type), Number: a.Number, Year: a.Year, Date: formatDate(&a.Date),
			Title: a.Title, Summary: a.Summary, Office: officeNames[a.OfficeID], PublishedFrom: formatDate(a.PublishedFrom),
			PublishedUntil: formatDate(a.PublishedUntil), DocumentURL: a.DocumentURL, Status: string(a.Status)})
	}
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(f)
	case ".csv":
		return writeCSV(w, &f)
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

func writeCSV(w io.Writer, f *File) error {
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(Columns)
	row := func(values map[string]string) {
		rec := make([]string, len(Columns))
		for i, c := range Columns {
			rec[i] = values[c]
		}
		cw.Write(rec)
	}
	join := func(xs []string) string { return strings.Join(xs, " | ") }
	for _, s := range f.Services {
		row(map[string]string{"type": "service", "slug": s.Slug, "title": s.Title, "summary": s.Summary,
			"description": s.Description, "audience": s.Audience, "office": s.Office, "eligibility": s.Eligibility,
			"requirements": join(s.Requirements), "costs": s.Costs, "howToApply": s.HowToApply, "channels": join(s.Channels),
			"onlineUrl": s.OnlineURL, "expectedTime": s.ExpectedTime, "legalBasis": s.LegalBasis, "topics": join(s.Topics),
			"status": s.Status})
	}
	for _, p := range f.Procedures {
		row(map[string]string{"type": "procedure", "code": p.Code, "name": p.Name, "description": p.Description,
			"legalBasis": p.LegalBasis, "office": p.Office, "officer": p.Officer, "maxDays": strconv.Itoa(p.MaxDays),
			"silentConsent": strconv.FormatBool(p.SilentConsent), "steps": join(p.Steps), "topics": join(p.Topics),
			"status": p.Status})
	}
	for _, a := range f.Acts {
		row(map[string]string{"type": "act", "actType": a.Type, "number": strconv.Itoa(a.Number), "year": strconv.Itoa(a.Year),
			"date": a.Date, "title": a.Title, "summary": a.Summary, "office": a.Office, "publishedFrom": a.PublishedFrom,
			"publishedUntil": a.PublishedUntil, "documentUrl": a.DocumentURL, "status": a.Status})
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write CSV: %w", err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
