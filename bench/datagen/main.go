// Command datagen loads the data set of the benchmark into a database of its own: a large
// municipality with 100,000 citizens and 1,000,000 tickets filed over five years, with their
// messages and histories, on top of the demo town (offices, staff, catalogue), and a catalogue
// grown to a few thousand services. The data depends only on the seed, the scale and the last
// day of the five years, so two runs with the same flags load the same rows.
//
// Rows are written by INSERT … SELECT over generate_series inside PostgreSQL, with the
// secondary indexes dropped during the load and built afterwards, and foreign keys and
// triggers off (session_replication_role = replica) for the generated tables: the generated
// references are valid by construction. Loading the full scale takes several minutes on a
// small machine; a database already loaded with the same flags is reused at once.
//
//	. .data/env && go run ./bench/datagen                 # full scale into sportello_bench
//	. .data/env && go run ./bench/datagen -scale 0.01     # 10,000 tickets, for trying things out
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("datagen: ")
	var o options
	flag.StringVar(&o.url, "db", "", "URL of the benchmark database (default: DATABASE_URL with the database sportello_bench)")
	flag.Int64Var(&o.seed, "seed", 1, "seed of the data set")
	flag.Float64Var(&o.scale, "scale", 1, "fraction of the full data set (1,000,000 tickets, 100,000 citizens)")
	flag.StringVar(&o.end, "end", "", "last day of the five years of tickets (default: reuse any loaded with this seed and scale, else yesterday)")
	flag.BoolVar(&o.force, "force", false, "reload the database even if it holds this data set")
	flag.Parse()
	if o.url == "" {
		u, err := BenchURL(os.Getenv("DATABASE_URL"))
		if err != nil {
			log.Fatal(err)
		}
		o.url = u
	}
	if err := run(context.Background(), o); err != nil {
		log.Fatal(err)
	}
}

type options struct {
	url   string
	seed  int64
	scale float64
	end   string
	force bool
}

// BenchURL returns the URL of the benchmark's database next to the one of base.
func BenchURL(base string) (string, error) {
	if base == "" {
		return "", errors.New("DATABASE_URL is not set (. .data/env)")
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("DATABASE_URL is not a URL: %q", base)
	}
	u.Path = "/sportello_bench"
	return u.String(), nil
}

func run(ctx context.Context, o options) error {
	// Without -end a data set of any end day is reused, so that make bench does not reload a
	// million tickets every day. A new one ends yesterday: no ticket is filed in the future,
	// and those the benchmark files come after every generated one.
	anyEnd := o.end == ""
	if anyEnd {
		o.end = time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	}
	end, err := time.Parse(time.DateOnly, o.end)
	if err != nil {
		return fmt.Errorf("-end: %w", err)
	}
	tickets := int(1_000_000 * o.scale)
	citizens := max(int(100_000*o.scale), 100)
	if tickets < 1000 {
		return errors.New("-scale gives fewer than 1,000 tickets")
	}
	size := fmt.Sprintf("seed=%d tickets=%d citizens=%d", o.seed, tickets, citizens)
	dataset := size + " end=" + o.end

	if !o.force {
		have, err := loadedDataset(ctx, o.url)
		if err != nil {
			return err
		}
		if have == dataset || anyEnd && strings.HasPrefix(have, size+" end=") {
			log.Printf("reusing %s (%s)", redact(o.url), have)
			return catchUp(ctx, o.url)
		}
	}
	// The database is the benchmark's own: anything else in it, a different data set or an
	// interrupted load, is replaced.
	if err := createDatabase(ctx, o.url); err != nil {
		return err
	}
	d, err := db.Open(ctx, o.url)
	if err != nil {
		return err
	}
	defer d.Close()
	start := time.Now()
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	// The demo town's offices, staff and catalogue, filed at the end of the five years.
	d.Now = func() time.Time { return end.Add(-time.Hour) }
	if err := db.SeedDemo(ctx, d); err != nil {
		return err
	}
	d.Now = time.Now
	conn, err := d.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	steps := load(o.seed, tickets, citizens, end)
	for _, s := range steps {
		t := time.Now()
		if s.name == "indexes" {
			if err := rebuildIndexes(ctx, conn); err != nil {
				return err
			}
			log.Printf("%-28s %v", s.name, time.Since(t).Round(time.Millisecond))
			continue
		}
		for lo := 1; lo <= tickets; lo += chunk {
			q := s.sql
			if s.chunked {
				q = strings.NewReplacer("{lo}", fmt.Sprint(lo), "{hi}", fmt.Sprint(lo+chunk-1)).Replace(q)
			}
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			if !s.chunked {
				break
			}
		}
		log.Printf("%-28s %v", s.name, time.Since(t).Round(time.Millisecond))
	}
	// The data set is recorded last: a load that did not finish leaves no record, and the next
	// run starts over.
	if _, err := d.ExecContext(ctx, `CREATE TABLE bench.dataset (description text NOT NULL, loaded_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return fmt.Errorf("record dataset: %w", err)
	}
	if _, err := d.ExecContext(ctx, `INSERT INTO bench.dataset (description) VALUES ($1)`, dataset); err != nil {
		return fmt.Errorf("record dataset: %w", err)
	}
	log.Printf("loaded %s into %s in %v", dataset, redact(o.url), time.Since(start).Round(time.Second))
	return nil
}

// catchUp brings a reused data set up to date with the code: the migrations added since it
// was loaded, and the demo data of areas added since (SeedDemo fills in only what is missing).
func catchUp(ctx context.Context, url string) error {
	d, err := db.Open(ctx, url)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		return err
	}
	return db.SeedDemo(ctx, d)
}

// rebuildIndexes builds the indexes dropped for the load, concurrently: a plain CREATE INDEX
// holds a transaction id for the whole build, which would stall the cluster's live feeds.
func rebuildIndexes(ctx context.Context, conn *sql.Conn) error {
	rows, err := conn.QueryContext(ctx, `SELECT def FROM bench.dropped_indexes`)
	if err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	var defs []string
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			rows.Close()
			return fmt.Errorf("indexes: %w", err)
		}
		defs = append(defs, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	for _, def := range defs {
		def = strings.Replace(def, "CREATE INDEX ", "CREATE INDEX CONCURRENTLY ", 1)
		if _, err := conn.ExecContext(ctx, def); err != nil {
			return fmt.Errorf("indexes: %s: %w", def, err)
		}
	}
	if _, err := conn.ExecContext(ctx, `DROP TABLE bench.dropped_indexes`); err != nil {
		return fmt.Errorf("indexes: %w", err)
	}
	return nil
}

// loadedDataset returns the description of the data set in the database at benchURL, or ""
// when there is no such database or no complete load in it.
func loadedDataset(ctx context.Context, benchURL string) (string, error) {
	d, err := sql.Open("postgres", benchURL)
	if err != nil {
		return "", err
	}
	defer d.Close()
	var have string
	err = d.QueryRowContext(ctx, `SELECT description FROM bench.dataset`).Scan(&have)
	var pe *pq.Error
	switch {
	case errors.As(err, &pe) && (pe.Code == "3D000" || pe.Code == "42P01" || pe.Code == "3F000"):
		return "", nil // no database, no table: nothing loaded
	case errors.Is(err, sql.ErrNoRows):
		return "", nil
	case err != nil:
		return "", fmt.Errorf("read dataset: %w", err)
	}
	return have, nil
}

// createDatabase creates the benchmark's database afresh.
func createDatabase(ctx context.Context, benchURL string) error {
	u, err := url.Parse(benchURL)
	if err != nil {
		return err
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := sql.Open("postgres", u.String())
	if err != nil {
		return err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `DROP DATABASE IF EXISTS `+pq.QuoteIdentifier(name)+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database: %w", err)
	}
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+pq.QuoteIdentifier(name)); err != nil {
		return fmt.Errorf("create database: %w", err)
	}
	return nil
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "the database"
	}
	return u.Redacted()
}

// A step is one or more statements. A chunked step runs once per range of chunk tickets, with
// {lo} and {hi} replaced by the range's first and last: every transaction stays short, because
// a long one anywhere in the cluster holds back the live feed of every database in it (see
// Position in feed.go), other developers' tests included.
type step struct {
	name    string
	sql     string
	chunked bool
}

// chunk is how many tickets a chunked step loads per transaction.
const chunk = 20_000

// sqlList returns a SQL array literal of the strings.
func sqlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = pq.QuoteLiteral(x)
	}
	return "ARRAY[" + strings.Join(q, ", ") + "]"
}

// load returns the statements that load the data set, in order. pg_temp.h(i, k) is the k-th
// pseudo-random number of row i, a function of the seed alone.
func load(seed int64, tickets, citizens int, end time.Time) []step {
	tenant := pq.QuoteLiteral(sportello.DefaultTenantID)
	endAt := pq.QuoteLiteral(end.Add(24 * time.Hour).Format(time.RFC3339))
	span := "interval '1826 days'"
	kinds := sqlList([]string{"INFORMATION", "ASSISTANCE", "PETITION", "PROPOSAL", "COMPLAINT", "REPORT", "SUGGESTION"})
	channels := sqlList([]string{"WEB", "APP", "APP", "WEB", "COUNTER", "PHONE", "EMAIL", "PEC", "POST"})
	subjects, bodies := make([]string, len(texts)), make([]string, len(texts))
	for i, t := range texts {
		subjects[i], bodies[i] = t[0], t[1]
	}
	given, family := sqlList(givenNames), sqlList(familyNames)
	f := func(format string, a ...any) string { return fmt.Sprintf(format, a...) }
	return []step{
		{"settings", `SET maintenance_work_mem = '512MB'; SET synchronous_commit = off;
			CREATE SCHEMA bench;
			CREATE TABLE bench.dropped_indexes AS
				SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
				FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
				WHERE t.relname IN ('tickets', 'ticket_messages', 'events', 'citizens') AND t.relnamespace = 'public'::regnamespace
				  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid);
			DO $$ DECLARE r record; BEGIN
				FOR r IN SELECT name FROM bench.dropped_indexes LOOP EXECUTE 'DROP INDEX ' || r.name; END LOOP;
			END $$;` +
			f(`CREATE FUNCTION pg_temp.h(i bigint, k int) RETURNS bigint LANGUAGE sql IMMUTABLE
				RETURN hashint8(i * 64 + k + %d::bigint * 1000003) & 2147483647;`, seed) +
			f(`CREATE FUNCTION pg_temp.uid(kind text, i bigint) RETURNS uuid LANGUAGE sql IMMUTABLE
				RETURN md5(kind || '-%d-' || i)::uuid;`, seed), false},
		{"citizens", f(`SET session_replication_role = replica;
			INSERT INTO citizens (id, tenant_id, subject, given_name, family_name, fiscal_code, email, phone, created_at, updated_at)
			SELECT pg_temp.uid('citizen', i), %[1]s, 'bench-citizen-' || i,
				(%[2]s)[1 + pg_temp.h(i, 1) %% %[4]d], (%[3]s)[1 + pg_temp.h(i, 2) %% %[5]d],
				'BNC' || lpad(i::text, 13, '0'), 'cittadino' || i || '@example.it', '+39 3' || lpad((pg_temp.h(i, 3) %% 1000000000)::text, 9, '0'),
				%[6]s::timestamptz - %[7]s - interval '30 days' + (pg_temp.h(i, 4) %% 86400) * interval '1 minute',
				%[6]s::timestamptz - %[7]s
			FROM generate_series(1, %[8]d) i`, tenant, given, family, len(givenNames), len(familyNames), endAt, span, citizens), false},
		// Tickets are filed at an even pace over the five years; a ticket's state depends on its
		// age: those of the last three months are still being handled.
		{"schedule", f(`CREATE TEMP TABLE offices_by_n AS SELECT row_number() OVER (ORDER BY name) AS n, id FROM offices WHERE tenant_id = %[1]s;
			CREATE TEMP TABLE g AS
			SELECT i, at, p, y, coalesce((SELECT last_seq FROM protocol_counters c WHERE c.tenant_id = %[1]s AND c.year = y), 0)
					+ row_number() OVER (PARTITION BY y ORDER BY i) AS seq
			FROM (SELECT i, at, pg_temp.h(i, 10) %% 100 AS p, extract(year FROM at AT TIME ZONE 'Europe/Rome')::int AS y
				FROM (SELECT i, %[2]s::timestamptz - %[3]s + (i - 1) * (%[3]s / %[4]d) AS at FROM generate_series(1, %[4]d) i) a) b;
			CREATE INDEX ON g (i);
			ANALYZE g`, tenant, endAt, span, tickets), false},
		{"tickets", f(`INSERT INTO tickets (id, tenant_id, protocol_year, protocol_seq, kind, channel, status, subject, body, citizen_id,
				contact_name, contact_email, receipt_hash, office_id, status_reason, created_at, updated_at, due_at, resolved_at, first_responded_at)
			SELECT pg_temp.uid('ticket', i), %[1]s, y, seq,
				CASE WHEN anon THEN 'REPORT' ELSE (%[5]s)[1 + pg_temp.h(i, 11) %% 7] END,
				(%[6]s)[1 + pg_temp.h(i, 12) %% 9], status,
				(%[7]s)[1 + tx] || CASE WHEN pg_temp.h(i, 14) %% 3 = 0 THEN ' (n. ' || i || ')' ELSE '' END, (%[8]s)[1 + tx],
				CASE WHEN anon THEN NULL ELSE pg_temp.uid('citizen', 1 + pg_temp.h(i, 15) %% %[9]d) END,
				CASE WHEN anon THEN 'Segnalante' ELSE '' END, CASE WHEN anon THEN 'segnalante' || i || '@example.it' ELSE '' END,
				CASE WHEN anon THEN sha256(('R' || i)::bytea) END,
				CASE WHEN pg_temp.h(i, 16) %% 100 < 85 THEN (SELECT id FROM offices_by_n WHERE n = 1 + pg_temp.h(i, 17) %% (SELECT count(*) FROM offices_by_n)) END,
				CASE WHEN status = 'REJECTED' THEN 'Non di competenza comunale' ELSE '' END,
				at, CASE WHEN status IN ('RESOLVED', 'REJECTED', 'CLOSED') THEN at + (1 + p %% 20) * interval '1 day' ELSE at + interval '1 day' END,
				(date_trunc('day', at AT TIME ZONE 'Europe/Rome') + interval '31 days') AT TIME ZONE 'Europe/Rome' - interval '1 microsecond',
				CASE WHEN status IN ('RESOLVED', 'REJECTED', 'CLOSED') THEN at + (1 + p %% 20) * interval '1 day' END,
				CASE WHEN status <> 'SUBMITTED' THEN at + (2 + p %% 40) * interval '1 hour' END
			FROM (SELECT i, at, p, y, seq, pg_temp.h(i, 13) %% %[10]d AS tx,
					pg_temp.h(i, 18) %% 100 < 3 AS anon,
					CASE WHEN at < %[2]s::timestamptz - interval '90 days' THEN
						CASE WHEN p < 70 THEN 'CLOSED' WHEN p < 90 THEN 'RESOLVED' ELSE 'REJECTED' END
					ELSE CASE WHEN p < 25 THEN 'SUBMITTED' WHEN p < 60 THEN 'IN_PROGRESS' WHEN p < 75 THEN 'WAITING_FOR_CITIZEN' ELSE 'RESOLVED' END
					END AS status
				FROM g WHERE i BETWEEN {lo} AND {hi}) s`,
			tenant, endAt, span, tickets, kinds, channels, sqlList(subjects), sqlList(bodies), citizens, len(texts)), true},
		{"counters", f(`INSERT INTO protocol_counters (tenant_id, year, last_seq)
			SELECT %[1]s, protocol_year, max(protocol_seq) FROM tickets WHERE tenant_id = %[1]s GROUP BY protocol_year
			ON CONFLICT (tenant_id, year) DO UPDATE SET last_seq = excluded.last_seq`, tenant), false},
		// Every ticket handled got a reply from the office a day after filing; a third of those
		// filed by citizens got an answer from the citizen the day after.
		{"staff", f(`CREATE TEMP TABLE staff_by_n AS SELECT row_number() OVER (ORDER BY subject) AS n, id, name FROM staff WHERE tenant_id = %s`, tenant), false},
		{"messages", f(`INSERT INTO ticket_messages (id, tenant_id, ticket_id, author_kind, author_staff_id, author_name, body, internal, created_at)
			SELECT pg_temp.uid('reply', g.i), %[1]s, pg_temp.uid('ticket', g.i), 'STAFF', s.id, s.name, %[2]s, false, g.at + interval '1 day'
			FROM g JOIN tickets t ON t.id = pg_temp.uid('ticket', g.i)
			JOIN staff_by_n s ON s.n = 1 + g.i %% (SELECT count(*) FROM staff_by_n)
			WHERE t.status <> 'SUBMITTED' AND g.i BETWEEN {lo} AND {hi};
			INSERT INTO ticket_messages (id, tenant_id, ticket_id, author_kind, author_citizen_id, author_name, body, internal, created_at)
			SELECT pg_temp.uid('answer', g.i), %[1]s, t.id, 'CITIZEN', t.citizen_id, c.given_name || ' ' || c.family_name, %[3]s, false, g.at + interval '2 days'
			FROM g JOIN tickets t ON t.id = pg_temp.uid('ticket', g.i) JOIN citizens c ON c.id = t.citizen_id
			WHERE t.status <> 'SUBMITTED' AND g.i %% 3 = 0 AND g.i BETWEEN {lo} AND {hi}`,
			tenant, pq.QuoteLiteral(replyText), pq.QuoteLiteral(answerText)), true},
		{"events", f(`INSERT INTO events (tenant_id, ticket_id, type, actor_kind, actor_id, actor_name, at, internal, data)
			SELECT %[1]s::uuid, t.id, 'CREATED', CASE WHEN t.citizen_id IS NULL THEN 'ANONYMOUS' ELSE 'CITIZEN' END, t.citizen_id, '', t.created_at, false,
				jsonb_strip_nulls(jsonb_build_object('toStatus', 'SUBMITTED', 'officeId', t.office_id))
			FROM tickets t JOIN g ON t.id = pg_temp.uid('ticket', g.i) WHERE g.i BETWEEN {lo} AND {hi}
			UNION ALL
			SELECT %[1]s, t.id, 'STATUS_CHANGED', 'STAFF', NULL, 'Anna Verdi', t.first_responded_at - interval '1 minute', false,
				jsonb_build_object('fromStatus', 'SUBMITTED', 'toStatus', 'IN_PROGRESS')
			FROM tickets t JOIN g ON t.id = pg_temp.uid('ticket', g.i) WHERE g.i BETWEEN {lo} AND {hi} AND t.status <> 'SUBMITTED'
			UNION ALL
			SELECT %[1]s, m.ticket_id, 'MESSAGE_POSTED', m.author_kind, coalesce(m.author_staff_id, m.author_citizen_id), m.author_name, m.created_at, false,
				jsonb_build_object('messageId', m.id)
			FROM ticket_messages m JOIN g ON m.ticket_id = pg_temp.uid('ticket', g.i) WHERE g.i BETWEEN {lo} AND {hi}
			UNION ALL
			SELECT %[1]s, t.id, 'STATUS_CHANGED', 'STAFF', NULL, 'Anna Verdi', t.resolved_at, false,
				jsonb_build_object('fromStatus', 'IN_PROGRESS', 'toStatus', t.status)
			FROM tickets t JOIN g ON t.id = pg_temp.uid('ticket', g.i) WHERE g.i BETWEEN {lo} AND {hi} AND t.status IN ('RESOLVED', 'REJECTED', 'CLOSED')
			ORDER BY 7`, tenant), true},
		// A catalogue the size of a large town's: services whose titles combine the demo's
		// topics, so searches find tens of hits among thousands.
		{"catalogue", f(`SET session_replication_role = origin;
			INSERT INTO services (tenant_id, slug, title, summary, description, topics, status)
			SELECT %[1]s, 'servizio-' || i, (%[2]s)[1 + pg_temp.h(i, 30) %% %[4]d] || ' ' || (%[3]s)[1 + pg_temp.h(i, 31) %% %[5]d] || ' (' || i || ')',
				'Come richiedere ' || lower((%[2]s)[1 + pg_temp.h(i, 30) %% %[4]d]) || ' ' || (%[3]s)[1 + pg_temp.h(i, 31) %% %[5]d] || ': requisiti, costi e tempi.',
				(%[6]s)[1 + pg_temp.h(i, 32) %% %[7]d], ARRAY[(%[3]s)[1 + pg_temp.h(i, 31) %% %[5]d]], 'PUBLISHED'
			FROM generate_series(1, %[8]d) i`,
			tenant, sqlList(serviceActions), sqlList(serviceTopics), len(serviceActions), len(serviceTopics),
			sqlList(bodies), len(bodies), max(tickets/250, 100)), false},
		{"indexes", "", false},
		{"analyze", `VACUUM ANALYZE`, false},
	}
}

var (
	givenNames = []string{"Giuseppe", "Maria", "Giovanni", "Anna", "Antonio", "Francesca", "Luca", "Chiara", "Marco", "Sara",
		"Alessandro", "Giulia", "Matteo", "Elena", "Lorenzo", "Martina", "Andrea", "Valentina", "Stefano", "Laura"}
	familyNames = []string{"Russo", "Ferrari", "Esposito", "Romano", "Colombo", "Ricci", "Marino", "Greco", "Bruno", "Gallo",
		"Conti", "De Luca", "Mancini", "Costa", "Giordano", "Rizzo", "Lombardi", "Moretti", "Barbieri", "Fontana"}
	serviceActions = []string{"Contributo per", "Iscrizione a", "Richiesta di", "Rinnovo di", "Esenzione da", "Autorizzazione per",
		"Rimborso di", "Certificato di", "Agevolazione per", "Segnalazione su"}
	serviceTopics = []string{"rifiuti", "mensa scolastica", "trasporto scolastico", "carta d'identità", "residenza", "TARI", "IMU",
		"passo carrabile", "occupazione suolo pubblico", "asilo nido", "centri estivi", "assistenza domiciliare", "affitto",
		"verde pubblico", "illuminazione", "ZTL", "parcheggio residenti", "biblioteca", "impianti sportivi", "matrimonio civile"}
)

const (
	replyText  = "Gentile cittadino, abbiamo preso in carico la sua richiesta e la inoltriamo all'ufficio competente."
	answerText = "Grazie, allego le informazioni richieste: il problema si presenta ogni mattina dopo le 8."
)

// texts are typical requests, long enough that the full-text column does real work.
var texts = [][2]string{
	{"Buca pericolosa in via Roma", "Buongiorno, segnalo una buca profonda davanti al civico 12 di via Roma, all'altezza delle strisce pedonali. Di sera non è visibile e ieri un ciclista è caduto. Chiedo un intervento urgente."},
	{"Rinnovo della carta d'identità", "Vorrei sapere quali documenti servono per rinnovare la carta d'identità elettronica di mio figlio minorenne, se è necessaria la presenza di entrambi i genitori e quali sono i tempi di attesa."},
	{"Ritardo nella raccolta dell'organico", "Da oltre una settimana in via Verdi non passa la raccolta dell'organico. I bidoni sono pieni e con il caldo l'odore è insopportabile. Vi prego di sollecitare il gestore."},
	{"Rimborso TARI pagata due volte", "Per errore ho pagato due volte la prima rata della TARI (avviso n. 4512). Allego le due ricevute e chiedo il rimborso della somma versata in eccesso o la compensazione con la rata successiva."},
	{"Proposta di un'area cani nel parco", "Propongo di recintare una piccola area del parco di via Mazzini per i cani, come in altri quartieri. Molti residenti sarebbero disponibili a curarne la manutenzione."},
	{"Lampione spento in piazza Garibaldi", "Il lampione all'angolo tra piazza Garibaldi e via Cavour è spento da giorni e la piazza di sera è molto buia. Segnalo anche che il palo è inclinato."},
	{"Contributo affitto: stato della domanda", "Ho presentato la domanda di contributo per l'affitto il mese scorso e non ho ancora ricevuto notizie. Vorrei sapere a che punto è la pratica e se mancano documenti."},
	{"Iscrizione alla mensa scolastica", "Mio figlio inizierà la scuola primaria a settembre: come si fa l'iscrizione alla mensa scolastica e quali sono le tariffe in base all'ISEE?"},
	{"Rumori molesti di notte", "Da alcune settimane un locale di via Dante tiene la musica alta fino alle tre di notte. Chiedo un controllo della polizia locale nel fine settimana."},
	{"Albero pericolante nel viale", "Nel viale della stazione un platano ha il tronco spaccato e si piega verso la carreggiata. Con il vento rischia di cadere sulle auto in sosta."},
	{"Permesso ZTL per residenti", "Ho cambiato auto e devo aggiornare la targa del permesso ZTL per residenti. Posso farlo online o devo venire allo sportello?"},
	{"Reclamo per il trasporto scolastico", "Lo scuolabus della linea 3 arriva ogni giorno con venti minuti di ritardo e i bambini entrano a scuola in ritardo. Chiedo che il servizio venga riorganizzato."},
}
