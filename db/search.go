package db

import (
	"container/list"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// SearchService implements sportello.SearchService over the search_documents index, which
// triggers keep in step with the catalogue and the offices (migration 0004).
//
// It keeps the hits of recent searches in memory, because the portal's searches repeat all day:
// a search whose results it keeps costs one short statement, which reads the version of the
// tenant's index (migration 0017) and parses the words, instead of ranking every document that
// matches and cutting snippets from ten of them. A change to any document of the tenant raises
// the version in the change's transaction, so the next search of every instance, which reads
// it, finds what it kept out of date and searches again.
type SearchService struct {
	db    *DB
	cache *searchCache
}

// SearchCacheEntries is how many searches a SearchService keeps the hits of, the least recently
// used making way for new ones: at ten hits of under 1 KB each, under 10 MB.
const SearchCacheEntries = 1000

// NewSearchService returns the search service over db.
func NewSearchService(db *DB) *SearchService {
	return &SearchService{db: db, cache: newSearchCache(SearchCacheEntries)}
}

var _ sportello.SearchService = (*SearchService)(nil)

// headlineOptions ask ts_headline for up to two fragments around the words found, marked with
// the domain's private-use markers; the rest of the text is escaped for HTML afterwards.
var headlineOptions = "StartSel=" + sportello.SnippetStart + ",StopSel=" + sportello.SnippetStop +
	`,MaxWords=30,MinWords=12,MaxFragments=2,FragmentDelimiter=" … "`

// searchAudience is who searches, as far as it changes what they find.
type searchAudience int

const (
	// audiencePublic finds what is published and visible today: citizens and anonymous callers.
	audiencePublic searchAudience = iota
	// audienceStaff finds everything but what is retired: the staff who write web content.
	audienceStaff
	// audienceCatalogueStaff finds what the staff find, but web content only when it is
	// online: operators write the catalogue but not web content.
	audienceCatalogueStaff
)

// searchKey is everything the hits of a search depend on besides the documents, so that two
// searches with the same key find the same hits while the tenant's index is at one version.
type searchKey struct {
	tenantID string
	audience searchAudience
	// today is the public's day in Rome: acts and opportunities show from and until a date.
	// It is the zero date for the staff, who find documents whatever their dates.
	today sportello.Date
	// words is the query as PostgreSQL parses it (websearch_to_tsquery): the spellings of a
	// search that differ only in case, accents, inflections, stop words or spaces share it.
	words string
	types string // sorted and comma-separated; empty for every type
	first int
}

// Search finds documents. See sportello.SearchService.
func (s *SearchService) Search(ctx context.Context, in sportello.SearchInput) ([]*sportello.SearchHit, error) {
	c, editor, err := catalogueCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	key := searchKey{tenantID: c.tenantID, first: in.First}
	switch {
	case !editor:
		key.audience, key.today = audiencePublic, sportello.DateOf(s.db.now())
	case c.user.WritesContent():
		key.audience = audienceStaff
	default:
		key.audience = audienceCatalogueStaff
	}
	types := make([]string, len(in.Types))
	for i, t := range in.Types {
		types[i] = string(t)
	}
	slices.Sort(types)
	key.types = strings.Join(types, ",")

	var index struct {
		Version int64  `db:"version"`
		Words   string `db:"words"`
	}
	if err := s.db.GetContext(ctx, &index, `SELECT
			coalesce((SELECT version FROM search_versions WHERE tenant_id = $1), 0) AS version,
			websearch_to_tsquery('it_unaccent', $2)::text AS words`, c.tenantID, in.Query); err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	key.words = index.Words
	hits, ok := s.cache.get(key, index.Version)
	if !ok {
		// The hits are kept under the version read before the search ran: they show the index
		// at that version or later, never earlier, so a search that reads the same version may
		// take them.
		if hits, err = s.search(ctx, key); err != nil {
			return nil, err
		}
		s.cache.put(key, index.Version, hits)
	}
	// The caller gets its own hits, so that nothing it does to them reaches the cache.
	out := make([]*sportello.SearchHit, len(hits))
	for i, h := range hits {
		hit := *h
		out[i] = &hit
	}
	return out, nil
}

// search runs the search of key in the index: the key holds all it depends on.
//
// The documents are ranked by ts_rank over their weighted vector (title A, summary B, text C),
// so a word in a title counts for ten in the text; only the page of best hits gets a snippet,
// because ts_headline re-parses the text and is the costly part.
func (s *SearchService) search(ctx context.Context, key searchKey) ([]*sportello.SearchHit, error) {
	var a args
	q := a.add(key.words)
	conds := []string{"d.tenant_id = " + a.add(key.tenantID), "d.document @@ q.q"}
	switch key.audience {
	case audiencePublic:
		today := a.add(dateArg(&key.today))
		conds = append(conds, "d.status = 'PUBLISHED'",
			"(d.visible_from IS NULL OR d.visible_from <= "+today+"::date)",
			"(d.visible_until IS NULL OR d.visible_until >= "+today+"::date)")
	case audienceStaff:
		conds = append(conds, "d.status <> 'RETIRED'")
	case audienceCatalogueStaff:
		conds = append(conds, "d.status <> 'RETIRED'", "(d.type <> 'CONTENT' OR d.status = 'PUBLISHED')")
	}
	if key.types != "" {
		conds = append(conds, "d.type = ANY("+a.add(pq.Array(strings.Split(key.types, ",")))+")")
	}
	query := `WITH q AS (SELECT ` + q + `::tsquery AS q),
		hits AS (
			SELECT d.type, d.ref_id, d.title, d.summary, d.body, ts_rank(d.document, q.q) AS rank
			FROM search_documents d, q
			WHERE ` + strings.Join(conds, " AND ") + `
			ORDER BY rank DESC, d.title, d.ref_id
			LIMIT ` + a.add(key.first) + `)
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

// searchCache keeps the hits of the most recently used searches, each with the version of the
// tenant's index it was found at.
type searchCache struct {
	mu      sync.Mutex
	max     int
	entries map[searchKey]*list.Element
	order   *list.List // of *searchEntry, most recently used first
}

type searchEntry struct {
	key     searchKey
	version int64
	hits    []*sportello.SearchHit
}

func newSearchCache(max int) *searchCache {
	return &searchCache{max: max, entries: make(map[searchKey]*list.Element), order: list.New()}
}

// get returns the hits kept for key if they were found at version; hits found at another
// version are out of date and dropped.
func (c *searchCache) get(key searchKey, version int64) ([]*sportello.SearchHit, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return nil, false
	}
	e := el.Value.(*searchEntry)
	if e.version != version {
		c.order.Remove(el)
		delete(c.entries, key)
		return nil, false
	}
	c.order.MoveToFront(el)
	return e.hits, true
}

// put keeps the hits of key, found at version, dropping the least recently used search when
// the cache is full.
func (c *searchCache) put(key searchKey, version int64, hits []*sportello.SearchHit) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		el.Value = &searchEntry{key: key, version: version, hits: hits}
		c.order.MoveToFront(el)
		return
	}
	c.entries[key] = c.order.PushFront(&searchEntry{key: key, version: version, hits: hits})
	if c.order.Len() > c.max {
		oldest := c.order.Back()
		c.order.Remove(oldest)
		delete(c.entries, oldest.Value.(*searchEntry).key)
	}
}
