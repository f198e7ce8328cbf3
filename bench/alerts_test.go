package bench

import (
	"context"
	"fmt"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// alertSearches is how many saved searches BenchmarkAlerts matches each published opportunity
// against.
const alertSearches = 10000

// BenchmarkAlerts measures publishing one opportunity of the youth desk while 10,000 citizens
// have each saved a search with alerts (categories, countries, ages, languages, places and
// words spread so that about four in a hundred match): the publishing transaction finds the
// matching searches and writes their notifications. It reports the citizens alerted and the
// SQL statements per publication.
func BenchmarkAlerts(b *testing.B) {
	d, counter := dbtest.NewCounting(b)
	ctx := context.Background()
	generateSavedSearches(b, d, alertSearches)
	youth := db.NewYouthService(d)
	staff := sportello.WithUser(ctx, &sportello.User{TenantID: sportello.DefaultTenantID, Subject: "bench-youth",
		Roles: []sportello.Role{sportello.RoleYouthDesk}})
	deadline := sportello.DateOf(time.Now()).AddDays(30)
	var statements, alerted int64
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		o, err := youth.CreateOpportunity(staff, sportello.OpportunityInput{Category: sportello.CategoryInternship,
			Title: fmt.Sprintf("Tirocinio in comunicazione digitale %d", i), Description: "Sei mesi di attività in un'agenzia.",
			Country: "IT", Location: &sportello.Location{Latitude: 45.47, Longitude: 9.19}, Languages: []string{"it", "en"},
			MinAge: 18, MaxAge: 29, Deadline: &deadline})
		if err != nil {
			b.Fatal(err)
		}
		counter.Reset()
		b.StartTimer()
		if _, err := youth.PublishOpportunity(staff, o.ID); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		statements += counter.Count()
		var n int64
		if err := d.Get(&n, `SELECT count(*) FROM opportunity_alerts WHERE opportunity_id = $1`, o.ID); err != nil {
			b.Fatal(err)
		}
		alerted += n
		b.StartTimer()
	}
	b.ReportMetric(float64(statements)/float64(b.N), "statements/op")
	b.ReportMetric(float64(alerted)/float64(b.N), "alerted/op")
}

// generateSavedSearches writes n citizens with one saved search each, in two statements.
func generateSavedSearches(b *testing.B, d *db.DB, n int) {
	b.Helper()
	if _, err := d.Exec(`INSERT INTO citizens (tenant_id, subject, given_name, family_name)
		SELECT $1, 'bench-' || g, 'Nome', 'Cognome' || g FROM generate_series(1, $2) g`, sportello.DefaultTenantID, n); err != nil {
		b.Fatal(err)
	}
	// Every criterion varies with the citizen's number g, on its own cycle, so that the
	// combinations spread; a search leaves a criterion empty often, as people do.
	if _, err := d.Exec(`INSERT INTO saved_searches (tenant_id, citizen_id, name, text, categories, country, remote,
			age, language, latitude, longitude, radius_meters, alerts, created_at)
		SELECT $1, c.id, 'Ricerca ' || g,
			(ARRAY['', '', 'tirocinio', 'lavoro estero', 'volontariato', 'comunicazione', 'corso inglese'])[1 + g % 7],
			(ARRAY['{}', '{INTERNSHIP}', '{JOB}', '{VOLUNTEERING,MOBILITY}', '{EU_CALL}', '{JOB,INTERNSHIP}'])[1 + g % 6]::text[],
			(ARRAY['', 'IT', 'DE', 'ES', 'FR'])[1 + g % 5],
			(ARRAY[NULL, NULL, true, false])[1 + g % 4],
			(ARRAY[0, 17, 22, 31, 25])[1 + g % 11 % 5],
			(ARRAY['', '', 'it', 'en', 'de'])[1 + g % 13 % 5],
			CASE WHEN g % 3 = 0 THEN 45.0 + (g % 50) / 10.0 END, CASE WHEN g % 3 = 0 THEN 9.0 + (g % 40) / 10.0 END,
			CASE WHEN g % 3 = 0 THEN 20000 END,
			true, now()
		FROM citizens c, LATERAL (SELECT substr(c.subject, 7)::int AS g) x
		WHERE c.tenant_id = $1 AND c.subject LIKE 'bench-%'`, sportello.DefaultTenantID); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Exec(`ANALYZE saved_searches`); err != nil {
		b.Fatal(err)
	}
}
