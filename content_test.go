package sportello

import (
	"strings"
	"testing"
	"time"
)

func TestContentWorkflow(t *testing.T) {
	all := []ContentAction{ContentEdit, ContentSubmit, ContentApprove, ContentPublish, ContentArchive}
	// allowed[from][action] is where the action leads; a missing pair is INVALID_TRANSITION.
	allowed := map[ContentStatus]map[ContentAction]ContentStatus{
		ContentDraft:     {ContentEdit: ContentDraft, ContentSubmit: ContentInReview, ContentArchive: ContentArchived},
		ContentInReview:  {ContentEdit: ContentDraft, ContentApprove: ContentApproved, ContentArchive: ContentArchived},
		ContentApproved:  {ContentEdit: ContentDraft, ContentPublish: ContentPublished, ContentArchive: ContentArchived},
		ContentPublished: {ContentEdit: ContentDraft, ContentArchive: ContentArchived},
		ContentArchived:  {ContentEdit: ContentDraft},
	}
	for _, from := range ContentStatuses {
		for _, action := range all {
			want, ok := allowed[from][action]
			got, err := NextContentStatus(from, action)
			switch {
			case ok && (err != nil || got != want):
				t.Errorf("%s from %s = %s, %v; want %s", action, from, got, err, want)
			case !ok && ErrorCode(err) != CodeInvalidTransition:
				t.Errorf("%s from %s = %s, %v; want INVALID_TRANSITION", action, from, got, err)
			}
		}
	}
}

func TestNobodyApprovesTheirOwnText(t *testing.T) {
	cases := []struct {
		name, approver, submitter string
		authors                   []string
		allowed                   bool
	}{
		{"another editor", "b", "a", []string{"a"}, true},
		{"the author", "a", "a", []string{"a"}, false},
		{"one of several authors", "b", "a", []string{"a", "b"}, false},
		{"who submitted someone else's text", "b", "b", []string{"a"}, false},
		{"a manager who did not write it", "m", "a", []string{"a", "b"}, true},
	}
	for _, c := range cases {
		err := CheckApprover(c.approver, c.authors, c.submitter)
		if c.allowed != (err == nil) || (err != nil && ErrorCode(err) != CodeForbidden) {
			t.Errorf("%s: CheckApprover = %v", c.name, err)
		}
	}
}

func TestContentInputValidation(t *testing.T) {
	start := time.Date(2026, 12, 8, 10, 0, 0, 0, Rome)
	before := start.Add(-time.Hour)
	cases := []struct {
		name  string
		typ   ContentType
		in    ContentInput
		field string // "" when valid
	}{
		{"a news item", ContentNews, ContentInput{Title: "Nuovi orari", Body: "Dal 1° dicembre."}, ""},
		{"no title", ContentNews, ContentInput{Title: "  "}, "title"},
		{"a news item with a path", ContentNews, ContentInput{Title: "X", Path: "/x"}, "path"},
		{"a page", ContentPage, ContentInput{Title: "URP", Path: "/vivere-il-comune/urp/"}, ""},
		{"a page without a path", ContentPage, ContentInput{Title: "URP"}, "path"},
		{"a page with a bad path", ContentPage, ContentInput{Title: "URP", Path: "vivere il comune"}, "path"},
		{"a page with a path too deep", ContentPage, ContentInput{Title: "X", Path: "/a/b/c/d/e/f/g"}, "path"},
		{"a page whose slug is not its path's", ContentPage, ContentInput{Title: "URP", Path: "/urp", Slug: "altro"}, "slug"},
		{"a bad slug", ContentNotice, ContentInput{Title: "Avviso", Slug: "Avviso Importante"}, "slug"},
		{"an event", ContentEvent, ContentInput{Title: "Concerto", EventStart: &start, EventPlace: "Piazza"}, ""},
		{"an event without a start", ContentEvent, ContentInput{Title: "Concerto"}, "eventStart"},
		{"an event ending before it starts", ContentEvent, ContentInput{Title: "Concerto", EventStart: &start, EventEnd: &before}, "eventEnd"},
		{"a notice with event dates", ContentNotice, ContentInput{Title: "Avviso", EventStart: &start}, "eventStart"},
		{"a javascript attachment", ContentBrochure, ContentInput{Title: "Pieghevole",
			Attachments: []Link{{URL: "javascript:alert(1)", Description: "PDF"}}}, "attachments.url"},
		{"an attachment without a description", ContentBrochure, ContentInput{Title: "Pieghevole",
			Attachments: []Link{{URL: "https://example.it/a.pdf"}}}, "attachments.description"},
		{"a cover without alternative text", ContentNews, ContentInput{Title: "X", Cover: &Image{URL: "https://example.it/a.jpg"}}, "cover.alt"},
		{"a body too long", ContentNews, ContentInput{Title: "X", Body: strings.Repeat("a", MaxContentBodyLen+1)}, "body"},
	}
	for _, c := range cases {
		in := c.in
		err := in.Validate(c.typ)
		switch {
		case c.field == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.field != "":
			e, ok := err.(*Error)
			if !ok || e.Code != CodeBadUserInput || e.Field != c.field {
				t.Errorf("%s: got %v, want BAD_USER_INPUT on %s", c.name, err, c.field)
			}
		}
	}
}

func TestContentInputDerivesTheSlug(t *testing.T) {
	page := ContentInput{Title: "Ufficio Relazioni con il Pubblico", Path: "/Vivere-il-comune/urp"}
	if err := page.Validate(ContentPage); err != nil || page.Path != "/vivere-il-comune/urp" || page.Slug != "urp" {
		t.Fatalf("page = %+v, %v", page, err)
	}
	news := ContentInput{Title: "Città più pulita: nuovi orari"}
	if err := news.Validate(ContentNews); err != nil || news.Slug != "citta-piu-pulita-nuovi-orari" {
		t.Fatalf("news = %+v, %v", news, err)
	}
}

func TestPublishTime(t *testing.T) {
	now := time.Date(2026, 11, 26, 9, 0, 0, 0, Rome)
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	if got, err := PublishTime(now, nil, nil); err != nil || !got.Equal(now) {
		t.Errorf("now: %v, %v", got, err)
	}
	if got, err := PublishTime(now, &earlier, nil); err != nil || !got.Equal(now) {
		t.Errorf("in the past: %v, %v", got, err)
	}
	if got, err := PublishTime(now, &later, nil); err != nil || !got.Equal(later) {
		t.Errorf("scheduled: %v, %v", got, err)
	}
	if _, err := PublishTime(now, &later, &later); ErrorCode(err) != CodeBadUserInput {
		t.Errorf("publishing when it is due to leave: %v", err)
	}
}

func TestParentPath(t *testing.T) {
	for path, want := range map[string]string{"/vivere-il-comune/urp": "/vivere-il-comune", "/vivere-il-comune": "", "/a/b/c": "/a/b"} {
		if got := ParentPath(path); got != want {
			t.Errorf("ParentPath(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestDiffLines(t *testing.T) {
	render := func(d []DiffLine) string {
		var b strings.Builder
		for _, l := range d {
			b.WriteString(map[DiffOp]string{DiffEqual: " ", DiffInsert: "+", DiffDelete: "-"}[l.Op] + l.Text + "\n")
		}
		return b.String()
	}
	cases := []struct{ name, a, b, want string }{
		{"equal", "a\nb", "a\nb", " a\n b\n"},
		{"both empty", "", "", ""},
		{"from nothing", "", "a\nb", "+a\n+b\n"},
		{"to nothing", "a", "", "-a\n"},
		{"a changed line", "Orari:\nlunedì 9-13\nfine", "Orari:\nlunedì 9-12\nfine", " Orari:\n-lunedì 9-13\n+lunedì 9-12\n fine\n"},
		{"an inserted line", "a\nc", "a\nb\nc", " a\n+b\n c\n"},
		{"moved lines", "a\nb\nc\nd", "b\nc\na\nd", "-a\n b\n c\n+a\n d\n"},
		{"crlf", "a\r\nb", "a\nb", " a\n b\n"},
	}
	for _, c := range cases {
		if got := render(DiffLines(c.a, c.b)); got != c.want {
			t.Errorf("%s: got\n%swant\n%s", c.name, got, c.want)
		}
	}
}

func TestDiffLinesOfHugeTextsStaysBounded(t *testing.T) {
	var a, b strings.Builder
	for i := range 3000 {
		a.WriteString("riga a" + strings.Repeat("x", i%7) + "\n")
		b.WriteString("riga b" + strings.Repeat("y", i%5) + "\n")
	}
	d := DiffLines("titolo\n"+a.String(), "titolo\n"+b.String())
	if d[0].Op != DiffEqual || len(d) != 1+3000+3000+1 {
		t.Fatalf("got %d lines, first %+v", len(d), d[0])
	}
}
