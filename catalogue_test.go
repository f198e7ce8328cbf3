package sportello

import (
	"testing"
	"time"
)

func TestSlugifyFoldsItalianAccentsAndPunctuation(t *testing.T) {
	for in, want := range map[string]string{
		"Carta d'identità elettronica": "carta-d-identita-elettronica",
		"  TARI - Tassa sui rifiuti ":  "tari-tassa-sui-rifiuti",
		"Perché è così? Più città!":    "perche-e-cosi-piu-citta",
	} {
		if got := Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestHighlightSnippetEscapesEverythingButTheMarks(t *testing.T) {
	got := HighlightSnippet("<b>Carta</b> & " + SnippetStart + "identità" + SnippetStop + " \"x\"")
	want := "&lt;b&gt;Carta&lt;/b&gt; &amp; <mark>identità</mark> &#34;x&#34;"
	if got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestActIsOnTheNoticeBoardFromTheFirstToTheLastDayInRome(t *testing.T) {
	from := Date{2026, 11, 20}
	until := Date{2026, 11, 26}
	a := &Act{Status: CataloguePublished, PublishedFrom: &from, PublishedUntil: &until}
	for _, tc := range []struct {
		at   time.Time
		want bool
	}{
		{time.Date(2026, 11, 19, 23, 30, 0, 0, Rome), false},
		{time.Date(2026, 11, 19, 23, 30, 0, 0, time.UTC), true}, // already the 20th in Rome
		{time.Date(2026, 11, 26, 23, 59, 0, 0, Rome), true},
		{time.Date(2026, 11, 27, 0, 0, 0, 0, Rome), false},
	} {
		if got := a.OnNoticeBoard(tc.at); got != tc.want {
			t.Errorf("at %v: %v, want %v", tc.at, got, tc.want)
		}
	}
}
