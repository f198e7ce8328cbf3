package report

import (
	"fmt"
	"io"
	"math"

	"github.com/go-pdf/fpdf"
)

// Page geometry, in millimetres (A4 portrait).
const (
	pageW    = 210.0
	pageH    = 297.0
	margin   = 15.0
	bottom   = pageH - 18
	contentW = pageW - 2*margin
	rowH     = 7.0
	labelW   = 58.0
	textW    = 34.0
)

// pdfDoc is a report being drawn, with the translator that turns UTF-8 into the cp1252 of the
// PDF core fonts, so that "è", "à" and "€" print as themselves.
type pdfDoc struct {
	*fpdf.Fpdf
	tr func(string) string
}

// PDF writes the report to w: a cover, the summary, the charts and the tables. With compress
// false the page contents stay readable in the file (tests look for the figures in it).
func PDF(w io.Writer, r *Semiannual, compress bool) error {
	d := &pdfDoc{Fpdf: fpdf.New("P", "mm", "A4", "")}
	d.tr = d.UnicodeTranslatorFromDescriptor("")
	d.SetCompression(compress)
	// The instant of the figures, not of the drawing, and the fonts in order of name: the same
	// figures give the same file.
	d.SetCatalogSort(true)
	d.SetCreationDate(r.Stats.At)
	d.SetModificationDate(r.Stats.At)
	title := "Relazione semestrale al Sindaco – " + HalfName(r.Year, r.Half)
	d.SetTitle(title, true)
	d.SetAuthor("Ufficio Relazioni con il Pubblico – "+r.Stats.Municipality, true)
	d.SetMargins(margin, margin, margin)
	d.SetAutoPageBreak(true, pageH-bottom)
	d.SetFooterFunc(func() {
		if d.PageNo() == 1 {
			return
		}
		d.SetY(bottom + 4)
		d.font("", 8, grey)
		d.CellFormat(0, 5, d.tr(fmt.Sprintf("%s – pagina %d", title, d.PageNo())), "", 0, "C", false, 0, "")
	})
	d.cover(r)
	d.summary(Summarize(r))
	d.AddPage()
	d.heading("I numeri del semestre")
	for _, c := range Charts(r) {
		d.chart(&c)
	}
	for _, t := range Tables(r) {
		d.table(&t)
	}
	return d.Output(w)
}

func (d *pdfDoc) font(style string, size float64, color [3]int) {
	d.SetFont("Helvetica", style, size)
	d.SetTextColor(color[0], color[1], color[2])
}

func (d *pdfDoc) fill(c [3]int) { d.SetFillColor(c[0], c[1], c[2]) }

var black = [3]int{30, 30, 30}

func (d *pdfDoc) cover(r *Semiannual) {
	d.AddPage()
	d.fill(blue)
	d.Rect(0, 0, pageW, 110, "F")
	d.SetXY(margin, 40)
	d.font("", 14, [3]int{255, 255, 255})
	d.CellFormat(contentW, 8, d.tr(r.Stats.Municipality), "", 2, "L", false, 0, "")
	d.font("B", 28, [3]int{255, 255, 255})
	d.MultiCell(contentW, 12, d.tr("Relazione semestrale al Sindaco"), "", "L", false)
	d.font("", 16, [3]int{255, 255, 255})
	d.CellFormat(contentW, 10, d.tr("Ufficio Relazioni con il Pubblico"), "", 2, "L", false, 0, "")
	d.SetXY(margin, 130)
	d.font("B", 20, black)
	d.CellFormat(contentW, 10, d.tr(capitalize(HalfName(r.Year, r.Half))), "", 2, "L", false, 0, "")
	from, to := r.Stats.Period.Bounds()
	d.font("", 12, black)
	d.CellFormat(contentW, 8, d.tr("Richieste presentate dal "+date(from)+" al "+date(to.AddDate(0, 0, -1))), "", 2, "L", false, 0, "")
	d.SetXY(margin, 250)
	d.font("", 10, grey)
	d.MultiCell(contentW, 5, d.tr("Dati elaborati il "+date(r.Stats.At)+" dal sistema Sportello. Le richieste ancora aperte e quelle scadute sono contate a quella data."), "", "L", false)
}

func (d *pdfDoc) heading(s string) {
	d.font("B", 16, blue)
	d.CellFormat(contentW, 10, d.tr(s), "", 2, "L", false, 0, "")
	d.Ln(2)
}

func (d *pdfDoc) summary(s Summary) {
	d.AddPage()
	d.heading("Sintesi")
	boxW := (contentW - 6) / 2
	y := d.GetY()
	for i, f := range s.Figures {
		x := margin + float64(i%2)*(boxW+6)
		by := y + float64(i/2)*32
		d.fill([3]int{235, 242, 250})
		d.Rect(x, by, boxW, 28, "F")
		d.SetXY(x+4, by+4)
		d.font("B", 22, blue)
		d.CellFormat(boxW-8, 11, d.tr(f.Value), "", 2, "L", false, 0, "")
		d.SetX(x + 4)
		d.font("", 11, black)
		d.CellFormat(boxW-8, 7, d.tr(f.Label), "", 0, "L", false, 0, "")
	}
	d.SetXY(margin, y+2*32+6)
	d.font("", 12, black)
	for _, sentence := range s.Sentences {
		d.MultiCell(contentW, 6.5, d.tr(sentence), "", "L", false)
		d.Ln(2.5)
	}
}

// fit trims s to width w, ending it with an ellipsis when it was cut.
func (d *pdfDoc) fit(s string, w float64) string {
	t := d.tr(s)
	if d.GetStringWidth(t) <= w {
		return t
	}
	r := []rune(s)
	for len(r) > 0 && d.GetStringWidth(d.tr(string(r)+"…")) > w {
		r = r[:len(r)-1]
	}
	return d.tr(string(r) + "…")
}

func (d *pdfDoc) need(h float64) {
	if d.GetY()+h > bottom {
		d.AddPage()
	}
}

func (d *pdfDoc) chart(c *Chart) {
	h := 12 + float64(len(c.Rows))*rowH + 8
	if c.Kind == Line {
		h = 12 + 62
	}
	if c.Note != "" {
		h += 10
	}
	d.need(h)
	d.font("B", 12, black)
	d.CellFormat(contentW, 8, d.tr(c.Title), "", 2, "L", false, 0, "")
	if c.Note != "" {
		d.font("", 9, grey)
		d.MultiCell(contentW, 4.5, d.tr(c.Note), "", "L", false)
	}
	d.Ln(2)
	if len(c.Rows) == 0 {
		d.font("I", 10, grey)
		d.CellFormat(contentW, 7, d.tr("Nessun dato nel semestre."), "", 2, "L", false, 0, "")
		d.Ln(4)
		return
	}
	if c.Kind == Line {
		d.line(c)
	} else {
		d.bars(c)
	}
	d.Ln(6)
}

func (d *pdfDoc) bars(c *Chart) {
	barW := contentW - labelW - textW
	max := c.max()
	for _, row := range c.Rows {
		y := d.GetY()
		d.font("", 9, black)
		d.SetXY(margin, y)
		d.CellFormat(labelW-2, rowH, d.fit(row.Label, labelW-3), "", 0, "R", false, 0, "")
		x := margin + labelW
		d.fill([3]int{240, 240, 240})
		d.Rect(x, y+1.2, barW, rowH-2.4, "F")
		for i, v := range row.Values {
			w := barW * v / max
			if w <= 0 {
				continue
			}
			d.fill(c.Series[i%len(c.Series)].Color)
			d.Rect(x, y+1.2, w, rowH-2.4, "F")
			x += w
		}
		d.SetXY(margin+labelW+barW+2, y)
		d.CellFormat(textW-2, rowH, d.tr(row.Text), "", 0, "L", false, 0, "")
		d.SetXY(margin, y+rowH)
	}
	if len(c.Series) > 1 {
		d.legend(c.Series)
	}
}

func (d *pdfDoc) legend(series []Series) {
	x := margin + labelW
	y := d.GetY() + 1
	d.font("", 8, black)
	for _, s := range series {
		d.fill(s.Color)
		d.Rect(x, y+1, 3, 3, "F")
		d.SetXY(x+4, y)
		w := d.GetStringWidth(d.tr(s.Name)) + 2
		d.CellFormat(w, 5, d.tr(s.Name), "", 0, "L", false, 0, "")
		x += w + 8
	}
	d.SetXY(margin, y+6)
}

func (d *pdfDoc) line(c *Chart) {
	top := d.GetY() + 4
	plotH := 46.0
	left, right := margin+10, margin+contentW-10
	max := c.max() * 1.15
	d.SetDrawColor(200, 200, 200)
	d.SetLineWidth(0.2)
	d.Line(left, top+plotH, right, top+plotH)
	step := 0.0
	if len(c.Rows) > 1 {
		step = (right - left) / float64(len(c.Rows)-1)
	}
	var pts []fpdf.PointType
	for i, row := range c.Rows {
		x := left + float64(i)*step
		if len(c.Rows) == 1 {
			x = (left + right) / 2
		}
		pts = append(pts, fpdf.PointType{X: x, Y: top + plotH - plotH*row.Values[0]/max})
	}
	d.SetDrawColor(blue[0], blue[1], blue[2])
	d.SetLineWidth(0.8)
	for i := 1; i < len(pts); i++ {
		d.Line(pts[i-1].X, pts[i-1].Y, pts[i].X, pts[i].Y)
	}
	d.fill(blue)
	for i, p := range pts {
		d.Circle(p.X, p.Y, 1.2, "F")
		d.font("B", 9, black)
		d.SetXY(p.X-15, p.Y-7)
		d.CellFormat(30, 5, d.tr(c.Rows[i].Text), "", 0, "C", false, 0, "")
		d.font("", 8, grey)
		d.SetXY(p.X-15, top+plotH+1)
		d.CellFormat(30, 5, d.tr(c.Rows[i].Label), "", 0, "C", false, 0, "")
	}
	d.SetLineWidth(0.2)
	d.SetXY(margin, top+plotH+8)
}

func (d *pdfDoc) table(t *Table) {
	firstW := 46.0
	colW := (contentW - firstW) / float64(len(t.Columns)-1)
	headH, lineH := 9.0, 6.0
	d.need(12 + headH + lineH*math.Min(float64(len(t.Rows)), 6))
	d.font("B", 12, black)
	d.CellFormat(contentW, 9, d.tr(t.Title), "", 2, "L", false, 0, "")
	header := func() {
		y := d.GetY()
		d.fill(blue)
		d.Rect(margin, y, contentW, headH, "F")
		d.font("B", 7.5, [3]int{255, 255, 255})
		x := margin
		for i, col := range t.Columns {
			w := colW
			align := "C"
			if i == 0 {
				w, align = firstW, "L"
			}
			d.SetXY(x+1, y+1)
			d.MultiCell(w-2, 3.5, d.tr(col), "", align, false)
			x += w
		}
		d.SetXY(margin, y+headH)
	}
	header()
	for i, row := range t.Rows {
		if d.GetY()+lineH > bottom {
			d.AddPage()
			header()
		}
		bold := ""
		if i == len(t.Rows)-1 {
			bold = "B"
		}
		d.font(bold, 8, black)
		fill := i%2 == 1
		d.fill([3]int{245, 245, 245})
		for j, cell := range row {
			if j == 0 {
				d.CellFormat(firstW, lineH, d.fit(cell, firstW-2), "", 0, "L", fill, 0, "")
				continue
			}
			d.CellFormat(colW, lineH, d.tr(cell), "", 0, "R", fill, 0, "")
		}
		d.Ln(lineH)
	}
	d.Ln(6)
}

func capitalize(s string) string {
	r := []rune(s)
	if len(r) > 0 && r[0] >= 'a' && r[0] <= 'z' {
		r[0] -= 'a' - 'A'
	}
	return string(r)
}
