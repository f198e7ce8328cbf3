package sportello

import (
	"context"
	"html"
	"slices"
	"strings"
)

// SearchType is a kind of document that search finds. Later areas (web pages, youth
// opportunities) add their own types: the search index has one row per document whatever its
// type, so a new type needs a constant here and the rows of its documents, nothing else.
type SearchType string

// The types of document search finds.
const (
	SearchTypeService   SearchType = "SERVICE"
	SearchTypeProcedure SearchType = "PROCEDURE"
	SearchTypeAct       SearchType = "ACT"
	SearchTypeOffice    SearchType = "OFFICE"
	// SearchTypeContent is web content (pages, news, notices, brochures, events): the public
	// finds what is online, editors also the working copies.
	SearchTypeContent SearchType = "CONTENT"
)

// SearchTypes lists every type of document search finds.
var SearchTypes = []SearchType{SearchTypeService, SearchTypeProcedure, SearchTypeAct, SearchTypeOffice, SearchTypeContent}

// Valid reports whether t is a known search type.
func (t SearchType) Valid() bool { return slices.Contains(SearchTypes, t) }

// Limits of a search.
const (
	MaxSearchQueryLen  = 200
	DefaultSearchFirst = 10
	MaxSearchFirst     = 50
)

// SearchInput is what someone looks for.
type SearchInput struct {
	Query string
	Types []SearchType // empty: every type
	First int
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *SearchInput) Validate() error {
	in.Query = strings.TrimSpace(in.Query)
	if err := checkLen("query", in.Query, 1, MaxSearchQueryLen); err != nil {
		return err
	}
	for _, t := range in.Types {
		if !t.Valid() {
			return InvalidField("types", "unknown type %q", t)
		}
	}
	in.Types = uniq(in.Types)
	if in.First == 0 {
		in.First = DefaultSearchFirst
	}
	if in.First < 1 || in.First > MaxSearchFirst {
		return InvalidField("first", "must be between 1 and %d", MaxSearchFirst)
	}
	return nil
}

// SearchHit is one document found, best first.
type SearchHit struct {
	Type  SearchType
	ID    string // the id of the service, procedure, act or office
	Title string
	// Snippet is an excerpt of the document around the words found, as HTML: the words are
	// wrapped in <mark> and </mark> and everything else is escaped, so a client may render it
	// as it is.
	Snippet string
	Score   float64
}

// SearchService finds documents of the caller's municipality. Everyone finds what is published;
// catalogue staff also find drafts.
type SearchService interface {
	// Search returns the best hits for the query, in Italian: accents and inflections do not
	// matter ("carta identita" finds "Carta d'identità"), and matches in titles rank above
	// matches in the text. Errors: BAD_USER_INPUT.
	Search(ctx context.Context, in SearchInput) ([]*SearchHit, error)
}

// Snippet markers: the database marks the words it found with these private-use characters,
// which never occur in the indexed text (the index strips them), and HighlightSnippet turns
// them into <mark> tags after escaping the rest.
const (
	SnippetStart = "\uE000"
	SnippetStop  = "\uE001"
)

// HighlightSnippet escapes an excerpt marked with SnippetStart and SnippetStop for HTML and
// turns the markers into <mark> and </mark>.
func HighlightSnippet(marked string) string {
	s := html.EscapeString(marked)
	return strings.NewReplacer(SnippetStart, "<mark>", SnippetStop, "</mark>").Replace(s)
}

// SearchItem is the document a search hit is: a *Service, *Procedure, *Act, *Office or *Content, and
// whatever later areas add.
type SearchItem interface{ isSearchItem() }

func (*Service) isSearchItem()   {}
func (*Procedure) isSearchItem() {}
func (*Act) isSearchItem()       {}
func (*Office) isSearchItem()    {}
func (*Content) isSearchItem()   {}
