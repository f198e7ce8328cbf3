package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// searchEntries is how many catalogue entries BenchmarkSearch searches among.
const searchEntries = 10000

const searchQuery = `query Search($q: String!) {
  search(query: $q, first: 10) { type id title snippet score }
}`

// BenchmarkSearch measures an anonymous search through the GraphQL handler over HTTP, among
// 10,000 generated services, procedures and acts (and the demo catalogue), for queries that
// match few and many documents. It reports the hits of the last query as hits/op.
func BenchmarkSearch(b *testing.B) {
	d := searchDatabase(b)
	anon := &sportello.User{TenantID: sportello.DefaultTenantID}
	client := newServer(b, d, map[string]*sportello.User{"anonymous": anon})

	for _, q := range []string{"carta identita", "certificati residenza", "tariffe rifiuti", "ordinanza traffico"} {
		body := gqlRequest(b, searchQuery, map[string]any{"q": q})
		b.Run(q, func(b *testing.B) {
			b.ReportAllocs()
			var hits int
			for b.Loop() {
				raw, err := client.do("anonymous", body)
				if err != nil {
					b.Fatal(err)
				}
				var data struct{ Search []json.RawMessage }
				if err := json.Unmarshal(raw, &data); err != nil {
					b.Fatal(err)
				}
				hits = len(data.Search)
			}
			if hits == 0 {
				b.Fatalf("%q found nothing", q)
			}
			b.ReportMetric(float64(hits), "hits/op")
		})
	}
}

// portalSearches are what citizens type in the portal's search box: the searches of the
// benchmark's load generator (bench/load).
var portalSearches = []string{"carta identita", "rifiuti", "tari rimborso", "mensa scolastica", "residenza", "asilo nido",
	"passo carrabile", "contributo affitto", "ztl permesso", "certificato"}

// BenchmarkSearchService measures an anonymous search of the service, without GraphQL, over
// the same catalogue as BenchmarkSearch, taking the portal's searches in turn: what each
// search costs the server and PostgreSQL together. In "cached" the service keeps the hits of
// the ten searches, as a server does all day; in "uncached" every search misses the cache,
// because the clock moves a day at each search and the public's hits are kept by day.
func BenchmarkSearchService(b *testing.B) {
	d := searchDatabase(b)
	ctx := sportello.WithUser(context.Background(), &sportello.User{TenantID: sportello.DefaultTenantID})
	run := func(b *testing.B, search *db.SearchService) {
		b.ReportAllocs()
		var hits, i int
		for b.Loop() {
			found, err := search.Search(ctx, sportello.SearchInput{Query: portalSearches[i%len(portalSearches)], First: 10})
			if err != nil {
				b.Fatal(err)
			}
			hits += len(found)
			i++
		}
		b.ReportMetric(float64(hits)/float64(i), "hits/op")
	}
	b.Run("cached", func(b *testing.B) { run(b, db.NewSearchService(d)) })
	b.Run("uncached", func(b *testing.B) {
		day := time.Now()
		d.Now = func() time.Time {
			day = day.AddDate(0, 0, 1)
			return day
		}
		b.Cleanup(func() { d.Now = time.Now })
		run(b, db.NewSearchService(d))
	})
}

// searchDatabase returns a database with the demo town and searchEntries generated catalogue
// entries.
func searchDatabase(b *testing.B) *db.DB {
	b.Helper()
	d := dbtest.New(b)
	if err := db.SeedDemo(context.Background(), d); err != nil {
		b.Fatalf("seed: %v", err)
	}
	generateCatalogue(b, d, searchEntries)
	return d
}

// generateCatalogue writes n published entries (a third each of services, procedures and acts)
// with titles and texts combined from Italian words of the catalogue, in one statement each.
func generateCatalogue(b *testing.B, d *db.DB, n int) {
	b.Helper()
	var office string
	if err := d.Get(&office, `SELECT id FROM offices WHERE tenant_id = $1 ORDER BY name LIMIT 1`, sportello.DefaultTenantID); err != nil {
		b.Fatal(err)
	}
	const words = `ARRAY['certificato','residenza','carta','identità','tariffe','rifiuti','ordinanza','traffico',
		'contributo','affitto','scuola','mensa','permesso','sosta','anagrafe','matrimonio','tributi','rimborso',
		'manutenzione','strade','assistenza','anziani','famiglia','bando','avviso','delibera','giunta','consiglio']`
	text := func(k int) string {
		return fmt.Sprintf(`(SELECT string_agg((%s)[1 + (g * %d + i * 7) %% 28], ' ') FROM generate_series(1, %d) i)`, words, k, k+3)
	}
	stmts := []string{
		`INSERT INTO services (tenant_id, slug, title, summary, description, office_id, status)
		 SELECT $1, 'generato-' || g, initcap(` + text(3) + `) || ' ' || g, ` + text(11) + `, ` + text(60) + `, $2, 'PUBLISHED'
		 FROM generate_series(1, $3) g`,
		`INSERT INTO procedures (tenant_id, code, name, description, legal_basis, office_id, max_days, status)
		 SELECT $1, 'GEN-' || g, initcap(` + text(4) + `) || ' ' || g, ` + text(40) + `, 'L. 241/1990', $2, 30, 'PUBLISHED'
		 FROM generate_series(1, $3) g`,
		`INSERT INTO acts (tenant_id, type, number, year, date, title, summary, office_id, published_from, status)
		 SELECT $1, 'EXECUTIVE_DECISION', 100000 + g, 2026, date '2026-01-01' + (g % 300), initcap(` + text(8) + `), ` + text(30) + `, $2,
		        date '2026-01-01' + (g % 300), 'PUBLISHED'
		 FROM generate_series(1, $3) g`,
	}
	for _, q := range stmts {
		if _, err := d.Exec(q, sportello.DefaultTenantID, office, n/3+1); err != nil {
			b.Fatalf("generate catalogue: %v", err)
		}
	}
	// As autovacuum would after such an import: the documents move from the GIN index's list of
	// pending entries, which every search reads whole, into the index proper.
	if _, err := d.Exec(`VACUUM ANALYZE search_documents`); err != nil {
		b.Fatal(err)
	}
}
