package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
)

// HTML writes the report as one self-contained HTML page: the charts are inline SVG and the
// styles inline, so it opens offline and prints as it shows.
func HTML(w io.Writer, r *Semiannual) error {
	from, to := r.Stats.Period.Bounds()
	charts := Charts(r)
	svgs := make([]template.HTML, len(charts))
	for i := range charts {
		svgs[i] = svg(&charts[i])
	}
	return page.Execute(w, map[string]any{
		"Title":        "Relazione semestrale al Sindaco – " + HalfName(r.Year, r.Half),
		"Municipality": r.Stats.Municipality,
		"Half":         capitalize(HalfName(r.Year, r.Half)),
		"From":         date(from),
		"To":           date(to.AddDate(0, 0, -1)),
		"At":           date(r.Stats.At),
		"Summary":      Summarize(r),
		"Charts":       charts,
		"SVGs":         svgs,
		"Tables":       Tables(r),
	})
}

var page = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="it">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body { font-family: "Helvetica Neue", Arial, sans-serif; color: #1e1e1e; max-width: 60rem; margin: 0 auto; padding: 0 1.5rem 3rem; }
header { background: #1f5ea0; color: #fff; padding: 3rem 2rem; margin: 0 -1.5rem 2rem; }
header h1 { font-size: 2.2rem; margin: .3rem 0; }
h2 { color: #1f5ea0; margin-top: 2.5rem; }
.figures { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
.figure { background: #ebf2fa; padding: 1rem 1.2rem; }
.figure strong { display: block; font-size: 2rem; color: #1f5ea0; }
.summary p { font-size: 1.1rem; line-height: 1.5; }
.note { color: #666; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; font-size: .85rem; margin-bottom: 2rem; }
th { background: #1f5ea0; color: #fff; padding: .4rem; }
td { padding: .3rem .4rem; text-align: right; }
td:first-child, th:first-child { text-align: left; }
tr:nth-child(even) td { background: #f5f5f5; }
tr:last-child td { font-weight: bold; }
@media print { h2 { break-before: page; } }
</style>
</head>
<body>
<header>
<div>{{.Municipality}}</div>
<h1>Relazione semestrale al Sindaco</h1>
<div>Ufficio Relazioni con il Pubblico · {{.Half}} · richieste presentate dal {{.From}} al {{.To}}</div>
</header>
<section class="summary">
<h2>Sintesi</h2>
<div class="figures">{{range .Summary.Figures}}<div class="figure"><strong>{{.Value}}</strong>{{.Label}}</div>{{end}}</div>
{{range .Summary.Sentences}}<p>{{.}}</p>{{end}}
</section>
<section>
<h2>I numeri del semestre</h2>
{{range $i, $c := .Charts}}<h3>{{$c.Title}}</h3>{{with $c.Note}}<p class="note">{{.}}</p>{{end}}
{{index $.SVGs $i}}
{{end}}
</section>
{{range .Tables}}<section>
<h3>{{.Title}}</h3>
<table><thead><tr>{{range .Columns}}<th>{{.}}</th>{{end}}</tr></thead>
<tbody>{{range .Rows}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody></table>
</section>{{end}}
<p class="note">Dati elaborati il {{.At}} dal sistema Sportello. Le richieste ancora aperte e quelle scadute sono contate a quella data.</p>
</body>
</html>
`))

// svg draws a chart as inline SVG, with every text escaped.
func svg(c *Chart) template.HTML {
	if len(c.Rows) == 0 {
		return `<p class="note">Nessun dato nel semestre.</p>`
	}
	var b strings.Builder
	esc := template.HTMLEscapeString
	color := func(c [3]int) string { return fmt.Sprintf("rgb(%d,%d,%d)", c[0], c[1], c[2]) }
	const width, labelW, textW, rowH = 900.0, 260.0, 150.0, 26.0
	if c.Kind == Line {
		const height, top, plotH, left, right = 260.0, 30.0, 180.0, 40.0, width - 40
		max := c.max() * 1.15
		fmt.Fprintf(&b, `<svg viewBox="0 0 %g %g" width="100%%" role="img" aria-label="%s">`, width, height, esc(c.Title))
		fmt.Fprintf(&b, `<line x1="%g" y1="%g" x2="%g" y2="%g" stroke="#ccc"/>`, left, top+plotH, right, top+plotH)
		step := 0.0
		if len(c.Rows) > 1 {
			step = (right - left) / float64(len(c.Rows)-1)
		}
		var points []string
		for i, row := range c.Rows {
			x := left + float64(i)*step
			if len(c.Rows) == 1 {
				x = (left + right) / 2
			}
			y := top + plotH - plotH*row.Values[0]/max
			points = append(points, fmt.Sprintf("%.1f,%.1f", x, y))
			fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="4" fill="%s"/>`, x, y, color(blue))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="13" font-weight="bold">%s</text>`, x, y-10, esc(row.Text))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" font-size="12" fill="#666">%s</text>`, x, top+plotH+20, esc(row.Label))
		}
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="3"/>`, strings.Join(points, " "), color(blue))
		b.WriteString(`</svg>`)
		return template.HTML(b.String())
	}
	height := float64(len(c.Rows))*rowH + 10
	if len(c.Series) > 1 {
		height += 26
	}
	barW := width - labelW - textW
	max := c.max()
	fmt.Fprintf(&b, `<svg viewBox="0 0 %g %g" width="100%%" role="img" aria-label="%s">`, width, height, esc(c.Title))
	for i, row := range c.Rows {
		y := float64(i) * rowH
		fmt.Fprintf(&b, `<text x="%g" y="%g" text-anchor="end" font-size="13">%s</text>`, labelW-8, y+17, esc(row.Label))
		fmt.Fprintf(&b, `<rect x="%g" y="%g" width="%g" height="%g" fill="#f0f0f0"/>`, labelW, y+4, barW, rowH-8)
		x := labelW
		for j, v := range row.Values {
			w := barW * v / max
			fmt.Fprintf(&b, `<rect x="%.1f" y="%g" width="%.1f" height="%g" fill="%s"/>`, x, y+4, w, rowH-8, color(c.Series[j%len(c.Series)].Color))
			x += w
		}
		fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="13">%s</text>`, labelW+barW+8, y+17, esc(row.Text))
	}
	if len(c.Series) > 1 {
		x := labelW
		y := float64(len(c.Rows))*rowH + 12
		for _, s := range c.Series {
			fmt.Fprintf(&b, `<rect x="%g" y="%g" width="12" height="12" fill="%s"/>`, x, y, color(s.Color))
			fmt.Fprintf(&b, `<text x="%g" y="%g" font-size="12">%s</text>`, x+16, y+11, esc(s.Name))
			x += 120
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}
