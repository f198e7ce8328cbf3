package db

import (
	"context"
	"fmt"
	"strings"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// SearchService implements sportello.SearchService over the search_documents index, which
// triggers keep in step with the catalogue and the offices (migration 0004).
type SearchService struct {
	db *DB
}

// NewSearchService returns the search service over db.
func NewSearchService(db *DB) *SearchService { return &SearchService{db: db} }

var _ sportello.SearchService = (*SearchService)(nil)

// headlineOptions ask ts_headline for up to two fragments around the words found, marked with
// the domain's private-use markers; the rest of the text is escaped for HTML afterwards.
var headlineOptions = "StartSel=" + sportello.SnippetStart + ",StopSel=" + sportello.SnippetStop +
	`,MaxWords=30,MinWords=12,MaxFragments=2,FragmentDelimiter=" … "`

// Search finds documents. See sportello.SearchService.
//
// The documents are ranked by ts_rank over their weighted vector (title A, summary B, text C),
// so a word in a title counts for ten in the text; only the page of best hits gets a snippet,
// because ts_headline re-parses the text and is the costly part.
func (s *SearchService) Search(ctx context.Context, in sportello.SearchInput) ([]*sportello.SearchHit, error) {
	c, editor, err := catalogueCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var a args
	q := a.add(in.Query)
	conds := []string{"d.tenant_id = " + a.add(c.tenantID), "d.document @@ q.q"}
	if editor {
		conds = append(conds, "d.status <> 'RETIRED'")
		if !c.user.WritesContent() {
			// Operators write the catalogue but not web content: they find what is online.
			conds = append(conds, "(d.type <> 'CONTENT' OR d.status = 'PUBLISHED')")
		}
	} else {
		today := sportello.DateOf(s.db.now())
		conds = append(conds, "d.status = 'PUBLISHED'",
			"(d.visible_from IS NULL OR d.visible_from <= "+a.add(dateArg(&today))+"::date)")
	}
	if len(in.Types) > 0 {
		conds = append(conds, "d.type = ANY("+a.add(pq.Array(in.Types))+")")
	}
	query := `WITH q AS (SELECT websearch_to_tsquery('it_unaccent', ` + q + `) AS q),
		hits AS (
			SELECT d.type, d.ref_id, d.title, d.summary, d.body, ts_rank(d.document, q.q) AS rank
			FROM search_documents d, q
			WHERE ` + strings.Join(conds, " AND ") + `
			ORDER BY rank DESC, d.title, d.ref_id
			LIMIT ` + a.add(in.First) + `)
		SELECT h.type, h.ref_id, h.title, h.rank,
			ts_headline('it_unaccent', concat_ws(' ', h.summary, h.body), q.q, ` + a.add(headlineOptions) + `) AS snippet
		FROM hits h, q
		ORDER BY h.rank DESC, h.title, h.ref_id`
	var rows []struct {
		Type    string  `db:"type"`
		RefID   string  `db:"ref_id"`
		Title   string  `db:"title"`
		Rank    float64 `db:"rank"`
		Snippet string  `db:"snippet"`
	}
	if err := s.db.SelectContext(ctx, &rows, query, a...); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	out := make([]*sportello.SearchHit, len(rows))
	for i, r := range rows {
		out[i] = &sportello.SearchHit{Type: sportello.SearchType(r.Type), ID: r.RefID, Title: r.Title, Score: r.Rank,
			Snippet: sportello.HighlightSnippet(strings.Join(strings.Fields(r.Snippet), " "))}
	}
	return out, nil
}
