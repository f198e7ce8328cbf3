// Command server runs Sportello: the GraphQL API and its maintenance commands.
//
//	server serve    apply pending migrations and serve the API
//	server migrate  apply pending migrations
//	server seed     apply migrations and load the demo municipality (once)
//	server token    print a development token: --role ROLE --subject SUB
//	server dev      migrate, seed, print demo tokens and serve (what `make run` does)
//	server import catalogue FILE  import services, procedures and acts from JSON or CSV
//	server export catalogue FILE  export them to JSON or CSV
//	server import opportunities FILE  import the youth desk's opportunities from JSON or CSV
//	server export opportunities FILE  export them to JSON or CSV
//	server persisted register FILE  add a manifest's operations to a client's allow-list
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/blob"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/graph"
	"github.com/sportello/sportello/graph/websocket"
	"github.com/sportello/sportello/live"
	"github.com/sportello/sportello/server/auth"
)

func main() {
	// JSON lines, one per event, for the log collector. Log calls carry ids (request, ticket,
	// tenant), never names, e-mails or fiscal codes.
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	tuneGC()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

const usage = `usage: server <command> [flags]

commands:
  serve    apply pending migrations and serve the API
  migrate  apply pending migrations
  seed     apply migrations and load the demo municipality (once)
  token    print a development token (--role ROLE --subject SUB ...)
  dev      migrate, seed, print demo tokens and serve
  import catalogue FILE  import services, procedures and acts (.json or .csv; --tenant SLUG)
  export catalogue FILE  export them (.json or .csv; --tenant SLUG)
  import opportunities FILE  import the youth desk's opportunities (.json or .csv; --mapping FILE, --full, --tenant SLUG)
  export opportunities FILE  export them (.json or .csv; --tenant SLUG)
  persisted register FILE  add the operations of a JSON manifest (name: query text) to the
                           allow-list of a client (--client NAME, default app)`

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd, args := args[0], args[1:]
	if cmd == "token" {
		return tokenCmd(args)
	}
	cfg, err := LoadConfig()
	if err != nil {
		return err
	}
	switch cmd {
	case "serve":
		return serve(ctx, cfg, false)
	case "dev":
		return serve(ctx, cfg, true)
	case "migrate", "seed":
		d, err := openDB(ctx, cfg)
		if err != nil {
			return err
		}
		defer d.Close()
		if cmd == "seed" {
			return db.SeedDemo(ctx, d)
		}
		return nil
	case "import", "export":
		if len(args) > 0 && args[0] == "opportunities" {
			return opportunitiesCmd(ctx, cfg, cmd, args[1:])
		}
		return catalogueCmd(ctx, cfg, cmd, args)
	case "persisted":
		return persistedCmd(ctx, cfg, args)
	default:
		return errors.New(usage)
	}
}

// openDB connects and applies pending migrations.
func openDB(ctx context.Context, cfg Config) (*db.DB, error) {
	connector, err := db.TracedConnector(withStatementTimeout(cfg.DatabaseURL, cfg.StatementTimeout), cfg.Tracer)
	if err != nil {
		return nil, err
	}
	d, err := db.OpenConnector(ctx, connector)
	if err != nil {
		return nil, err
	}
	if cfg.DatabasePoolSize > 0 {
		d.SetPoolSize(cfg.DatabasePoolSize)
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// withStatementTimeout sets PostgreSQL's statement_timeout on every connection of the pool, as
// a run-time parameter of the connection URL (lib/pq sends parameters it does not know to the
// server), so that no statement, however it was reached, runs longer than d. A URL that sets
// its own statement_timeout keeps it.
func withStatementTimeout(url string, d time.Duration) string {
	if d <= 0 || strings.Contains(url, "statement_timeout") {
		return url
	}
	param := "statement_timeout=" + strconv.FormatInt(d.Milliseconds(), 10)
	switch {
	case strings.Contains(url, "://") && strings.Contains(url, "?"):
		return url + "&" + param
	case strings.Contains(url, "://"):
		return url + "?" + param
	default:
		return url + " " + param
	}
}

// NewApp wires the services over d into a server. Tests use it to run the real server.
func NewApp(cfg Config, d *db.DB, rdb redis.UniversalClient) (*App, error) {
	verifier, err := auth.NewVerifier(auth.Config{DevSecret: cfg.DevSecret, Issuer: cfg.OIDCIssuer,
		Audience: cfg.OIDCAudience, JWKSURL: cfg.OIDCJWKSURL})
	if err != nil {
		return nil, err
	}
	if dir, ok := strings.CutPrefix(cfg.BlobStore, "dir:"); ok {
		if d.Blobs, err = blob.NewDir(dir); err != nil {
			return nil, err
		}
	}
	citizens := db.NewCitizenService(d)
	dashboards := db.NewDashboardService(d)
	content := db.NewContentService(d)
	metrics := newMetrics(d.DB.DB)
	hub := live.New(live.Config{Log: db.NewEventLog(d), Dashboards: dashboards, Citizens: citizens,
		Redis: rdb, Cluster: cfg.RedisCluster, Buffer: cfg.LiveBuffer, SlowAfter: cfg.LiveSlowAfter,
		Dispatched: metrics.Dispatched})
	// Every commit that writes ticket events wakes the feed of this process at once and, through
	// Redis, those of the others.
	d.Notifier = hub
	app := &App{
		Config: cfg,
		Resolver: &graph.Resolver{
			TicketService:  db.NewTicketService(d),
			CitizenService: citizens,
			OfficeService:  db.NewOfficeService(d),
			HoursService:   db.NewHoursService(d),
			Dashboards:     dashboards,
			Feed:           hub,
			Now:            func() time.Time { return d.Now() },

			CatalogueService:     db.NewCatalogueService(d),
			SearchService:        db.NewSearchService(d),
			RecordsAccessService: db.NewRecordsAccessService(d),
			AppointmentService:   db.NewAppointmentService(d),
			Open311Service:       db.NewOpen311Service(d),
			AttachmentService:    db.NewAttachmentService(d),
			YouthService:         db.NewYouthService(d),
			FeedbackService:      db.NewFeedbackService(d),
			SurveyService:        db.NewSurveyService(d),
			StatisticsService:    db.NewStatisticsService(d),
			NotificationService:  db.NewNotificationService(d),
			Topics:               hub,
			ContentService:       content,
			CampaignService:      db.NewCampaignService(d),
			TriageService:        db.NewTriageService(d),
			PrivacyService:       db.NewPrivacyService(d),

			NotificationPreferenceService: db.NewNotificationPreferenceService(d),
		},
		Verifier:         verifier,
		Tenants:          newTenantCache(db.NewTenantService(d)),
		Hub:              hub,
		PersistedQueries: newPersistedQueries(rdb),
		AllowList:        db.NewPersistedOperations(d),
		limiter:          &rateLimiter{rdb: rdb},
		metrics:          metrics,
		Ready: func(ctx context.Context) error {
			if n, err := d.PendingMigrations(ctx); err != nil {
				return fmt.Errorf("database: %w", err)
			} else if n > 0 {
				return fmt.Errorf("database: %d migrations not applied", n)
			}
			if err := rdb.Ping(ctx).Err(); err != nil {
				return fmt.Errorf("redis: %w", err)
			}
			return nil
		},
		ContentSchedule: content,
	}
	app.WebSocket = &websocket.Transport{Init: app.initWebSocket, CheckOrigin: app.checkOrigin}
	return app, nil
}

// openRedis connects to a Redis server, or to a Redis Cluster when REDIS_CLUSTER is set.
func openRedis(cfg Config) (redis.UniversalClient, error) {
	if cfg.RedisCluster {
		opts, err := redis.ParseClusterURL(cfg.RedisURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		return redis.NewClusterClient(opts), nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	return redis.NewClient(opts), nil
}

func serve(ctx context.Context, cfg Config, demo bool) error {
	tp, err := setupTracing(ctx)
	if err != nil {
		return err
	}
	if tp != nil {
		// Spans still buffered go out before the process ends.
		defer tp.Shutdown(context.WithoutCancel(ctx))
		cfg.Tracer = tp.Tracer("github.com/sportello/sportello")
	}
	d, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer d.Close()
	rdb, err := openRedis(cfg)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if demo {
		if err := db.SeedDemo(ctx, d); err != nil {
			return err
		}
	}
	app, err := NewApp(cfg, d, rdb)
	if err != nil {
		return err
	}
	// The feed outlives the signal until the listener is closed, so that subscriptions end
	// with a reason ("shutting down") rather than a dropped connection.
	hubCtx, stopHub := context.WithCancel(context.WithoutCancel(ctx))
	defer stopHub()
	hubDone := make(chan error, 1)
	go func() { hubDone <- app.Hub.Run(hubCtx) }()
	go runYouthJobs(hubCtx, db.NewYouthService(d))
	go runContentSchedule(hubCtx, app.ContentSchedule, contentScheduleEvery)
	// Every instance runs the escalation worker: each escalation is claimed once in the
	// database, so instances never repeat one.
	escalator := db.NewEscalator(d)
	escalator.Share = cfg.EscalationShare
	go escalator.Run(hubCtx, cfg.EscalationInterval)
	go runRetention(hubCtx, db.NewPrivacyService(d), cfg.RetentionDays)

	if cfg.PprofAddr != "" {
		servePprof(cfg.PprofAddr)
	}
	srv := &http.Server{
		Addr:              cfg.ListenAddr,
		Handler:           app.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	errc := make(chan error, 2)
	go func() { errc <- srv.ListenAndServe() }()
	go func() {
		if err := serveMail(ctx, cfg, d); err != nil {
			errc <- err
		}
	}()
	go newNotifier(cfg, d).Run(ctx, cfg.NotifyInterval)
	slog.Info("serving", "addr", "http://"+cfg.ListenAddr+"/graphql", "production", cfg.Production)
	if demo {
		printDemoTokens(cfg)
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	slog.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Stop accepting, let requests in flight finish, end every subscription with its reason,
	// then close the WebSockets that remain (http.Server does not track hijacked connections).
	err = srv.Shutdown(shutdownCtx)
	stopHub()
	if hubErr := <-hubDone; hubErr != nil && !errors.Is(hubErr, context.Canceled) {
		slog.Error("live feed", "error", hubErr)
	}
	if wsErr := app.WebSocket.Shutdown(shutdownCtx); wsErr != nil {
		slog.Error("close websockets", "error", wsErr)
	}
	return err
}

// runRetention pseudonymises, every hour, the closed tickets past the retention period. Every
// instance runs it; the service lets one of them work at a time.
func runRetention(ctx context.Context, svc *db.PrivacyService, days int) {
	tick := time.NewTicker(time.Hour)
	defer tick.Stop()
	for {
		cutoff := time.Now().AddDate(0, 0, -days)
		if n, err := svc.PseudonymiseClosedTickets(ctx, cutoff); err != nil {
			slog.ErrorContext(ctx, "retention", "error", err)
		} else if n > 0 {
			slog.InfoContext(ctx, "retention: tickets pseudonymised", "count", n, "closed_before", cutoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// printDemoTokens prints ready-to-use tokens for the demo users, valid for a week.
func printDemoTokens(cfg Config) {
	var b strings.Builder
	fmt.Fprintf(&b, "\nSportello is running: GraphQL at http://%s/graphql, IDE at http://%s/\n", cfg.ListenAddr, cfg.ListenAddr)
	fmt.Fprintln(&b, "Demo tokens (send as the header  Authorization: Bearer <token>):")
	for _, u := range []sportello.User{db.DemoCitizen, db.DemoOperator, db.DemoManager, db.DemoEditor} {
		tok, err := auth.MintDev(cfg.DevSecret, claimsOf(u), 7*24*time.Hour)
		if err != nil {
			slog.Error("mint demo token", "error", err)
			return
		}
		fmt.Fprintf(&b, "\n  %s (%s):\n  %s\n", u.DisplayName(), u.Roles[0], tok)
	}
	fmt.Fprintln(os.Stderr, b.String())
}

func claimsOf(u sportello.User) auth.Claims {
	return auth.Claims{Subject: u.Subject, Roles: u.Roles, GivenName: u.GivenName, FamilyName: u.FamilyName,
		FiscalCode: u.FiscalCode, Email: u.Email}
}

// tokenCmd prints a development token signed with AUTH_DEV_SECRET (or the development default).
func tokenCmd(args []string) error {
	fs := flag.NewFlagSet("token", flag.ContinueOnError)
	roles := fs.String("role", "CITIZEN", "comma-separated roles: "+fmt.Sprint(sportello.Roles))
	subject := fs.String("subject", "", "the user's stable id (required)")
	tenant := fs.String("tenant", "", "tenant slug (default: the tenant of the host)")
	given := fs.String("given-name", "", "given name claim")
	family := fs.String("family-name", "", "family name claim")
	fiscal := fs.String("fiscal-code", "", "fiscal code claim")
	email := fs.String("email", "", "e-mail claim")
	ttl := fs.Duration("ttl", 24*time.Hour, "lifetime")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *subject == "" {
		return errors.New("token: --subject is required")
	}
	c := auth.Claims{Subject: *subject, Tenant: *tenant, GivenName: *given, FamilyName: *family, FiscalCode: *fiscal, Email: *email}
	for _, r := range strings.Split(*roles, ",") {
		role := sportello.Role(strings.ToUpper(strings.TrimSpace(r)))
		if !role.Valid() {
			return fmt.Errorf("token: unknown role %q (one of %v)", r, sportello.Roles)
		}
		c.Roles = append(c.Roles, role)
	}
	secret := env("AUTH_DEV_SECRET", devSecret)
	tok, err := auth.MintDev(secret, c, *ttl)
	if err != nil {
		return err
	}
	fmt.Println(tok)
	return nil
}
