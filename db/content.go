package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/markup"
)

// ContentService implements sportello.ContentService and sportello.ContentScheduler. An item's
// row says where its workflow stands and which revision is the working copy (revision) and
// which one is online (live_revision); editors read the first, everyone else the second. The
// search index follows the item by a trigger (migration 0009).
type ContentService struct {
	db *DB
}

// NewContentService returns the content service over db.
func NewContentService(db *DB) *ContentService { return &ContentService{db: db} }

var (
	_ sportello.ContentService   = (*ContentService)(nil)
	_ sportello.ContentScheduler = (*ContentService)(nil)
)

// contentCaller returns the caller and whether they write content, and so read working copies.
func contentCaller(ctx context.Context) (caller, bool, error) {
	c, err := callerFrom(ctx)
	return c, err == nil && c.user.WritesContent(), err
}

// requireContentEditor returns the caller if they write content.
func requireContentEditor(ctx context.Context) (caller, error) {
	return requireSignedIn(ctx, func(c caller) bool { return c.user.WritesContent() })
}

const contentColumns = `c.id, c.tenant_id, c.type, c.language, c.translation_group, c.slug, coalesce(c.path, '') AS path,
	c.status, r.number AS shown, c.revision, coalesce(c.live_revision, 0) AS live_revision, r.title, r.summary, r.body,
	r.body_html, r.topics, r.office_id, r.attachments, r.cover_url, r.cover_alt, r.event_start, r.event_end,
	r.event_place, c.publish_at, c.unpublish_at, c.published_at, c.created_at, c.updated_at`

type contentRow struct {
	ID               string         `db:"id"`
	TenantID         string         `db:"tenant_id"`
	Type             string         `db:"type"`
	Language         string         `db:"language"`
	TranslationGroup string         `db:"translation_group"`
	Slug             string         `db:"slug"`
	Path             string         `db:"path"`
	Status           string         `db:"status"`
	Shown            int            `db:"shown"`
	Revision         int            `db:"revision"`
	LiveRevision     int            `db:"live_revision"`
	Title            string         `db:"title"`
	Summary          string         `db:"summary"`
	Body             string         `db:"body"`
	BodyHTML         string         `db:"body_html"`
	Topics           pq.StringArray `db:"topics"`
	OfficeID         sql.NullString `db:"office_id"`
	Attachments      []byte         `db:"attachments"`
	CoverURL         string         `db:"cover_url"`
	CoverAlt         string         `db:"cover_alt"`
	EventStart       sql.NullTime   `db:"event_start"`
	EventEnd         sql.NullTime   `db:"event_end"`
	EventPlace       string         `db:"event_place"`
	PublishAt        sql.NullTime   `db:"publish_at"`
	UnpublishAt      sql.NullTime   `db:"unpublish_at"`
	PublishedAt      sql.NullTime   `db:"published_at"`
	CreatedAt        time.Time      `db:"created_at"`
	UpdatedAt        time.Time      `db:"updated_at"`
}

// content converts the row. The public sees the live revision as PUBLISHED, and nothing of
// the working copy's workflow (its status, its scheduled publication).
func (r *contentRow) content(editor bool) (*sportello.Content, error) {
	links, err := readLinks(r.Attachments)
	if err != nil {
		return nil, err
	}
	c := &sportello.Content{
		ID: r.ID, TenantID: r.TenantID, Type: sportello.ContentType(r.Type), Language: r.Language,
		TranslationGroup: r.TranslationGroup, Slug: r.Slug, Path: r.Path, Status: sportello.ContentStatus(r.Status),
		Revision: r.Shown, LatestRevision: r.Revision, LiveRevision: r.LiveRevision,
		Title: r.Title, Summary: r.Summary, Body: r.Body, BodyHTML: r.BodyHTML, Topics: nonNil(r.Topics),
		OfficeID: r.OfficeID.String, Attachments: links, EventStart: timePtr(r.EventStart), EventEnd: timePtr(r.EventEnd),
		EventPlace: r.EventPlace, PublishAt: timePtr(r.PublishAt), UnpublishAt: timePtr(r.UnpublishAt),
		PublishedAt: timePtr(r.PublishedAt), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
	if r.CoverURL != "" {
		c.Cover = &sportello.Image{URL: r.CoverURL, Alt: r.CoverAlt}
	}
	if !editor {
		c.Status, c.LatestRevision, c.PublishAt = sportello.ContentPublished, r.Shown, nil
	}
	return c, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	v := t.Time
	return &v
}

// linkJSON is how links are stored in jsonb columns.
type linkJSON struct {
	URL         string `json:"url"`
	Description string `json:"description"`
}

// linksArg writes links for a jsonb column. It is text, not bytes: with binary_parameters, lib/pq
// would send bytes as the binary jsonb format, which has a version header.
func linksArg(links []sportello.Link) string {
	out := make([]linkJSON, len(links))
	for i, l := range links {
		out[i] = linkJSON(l)
	}
	b, _ := json.Marshal(out)
	return string(b)
}

func readLinks(b []byte) ([]sportello.Link, error) {
	var in []linkJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, fmt.Errorf("read links: %w", err)
	}
	out := make([]sportello.Link, len(in))
	for i, l := range in {
		out[i] = sportello.Link(l)
	}
	return out, nil
}

// visibility returns the join of an item's row (c) with the revision (r) the caller reads, and
// the condition of the items they may see: editors see every item of the tenant in its working
// copy, everyone else the items online now, in their live revision. An item whose unpublishAt
// has come is hidden at once, before the scheduler takes it offline.
func (s *ContentService) visibility(c caller, editor bool, a *args) (from, cond string) {
	if editor {
		return `contents c JOIN content_revisions r ON r.content_id = c.id AND r.number = c.revision`,
			"c.tenant_id = " + a.add(c.tenantID)
	}
	return `contents c JOIN content_revisions r ON r.content_id = c.id AND r.number = c.live_revision`,
		"c.tenant_id = " + a.add(c.tenantID) + " AND (c.unpublish_at IS NULL OR c.unpublish_at > " + a.add(s.db.now()) + ")"
}

// selectContents runs a query of the visible items with extra conditions and a tail (ORDER BY,
// LIMIT) on q.
func (s *ContentService) selectContents(ctx context.Context, q sqlx.QueryerContext, c caller, editor bool, a *args,
	conds []string, tail string) ([]*sportello.Content, error) {
	from, scope := s.visibility(c, editor, a)
	var rows []contentRow
	query := `SELECT ` + contentColumns + ` FROM ` + from + ` WHERE ` + strings.Join(append([]string{scope}, conds...), " AND ") + " " + tail
	if err := sqlx.SelectContext(ctx, q, &rows, query, *a...); err != nil {
		return nil, fmt.Errorf("list content: %w", err)
	}
	out := make([]*sportello.Content, len(rows))
	for i := range rows {
		var err error
		if out[i], err = rows[i].content(editor); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// one returns the single visible item matching cond, or NOT_FOUND.
func (s *ContentService) one(ctx context.Context, q sqlx.QueryerContext, c caller, editor bool, a *args, cond string) (*sportello.Content, error) {
	items, err := s.selectContents(ctx, q, c, editor, a, []string{cond}, "LIMIT 1")
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, sportello.NotFound("content")
	}
	return items[0], nil
}

// Content returns an item by id. See sportello.ContentService.
func (s *ContentService) Content(ctx context.Context, id string) (*sportello.Content, error) {
	c, editor, err := contentCaller(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("content")
	}
	var a args
	return s.one(ctx, s.db, c, editor, &a, "c.id = "+a.add(id))
}

// ContentByPath returns the page at a path. See sportello.ContentService.
func (s *ContentService) ContentByPath(ctx context.Context, path, language string) (*sportello.Content, error) {
	return s.byAddress(ctx, "c.path", strings.ToLower(strings.TrimSuffix(strings.TrimSpace(path), "/")), language)
}

// ContentBySlug returns the item with a slug. See sportello.ContentService.
func (s *ContentService) ContentBySlug(ctx context.Context, slug, language string) (*sportello.Content, error) {
	return s.byAddress(ctx, "c.type <> 'PAGE' AND c.slug", strings.TrimSpace(slug), language)
}

func (s *ContentService) byAddress(ctx context.Context, column, value, language string) (*sportello.Content, error) {
	c, editor, err := contentCaller(ctx)
	if err != nil {
		return nil, err
	}
	lang, err := contentLanguage(language)
	if err != nil {
		return nil, err
	}
	var a args
	return s.one(ctx, s.db, c, editor, &a, column+" = "+a.add(value)+" AND c.language = "+a.add(lang))
}

// contentLanguage checks a language argument; empty means Italian.
func contentLanguage(language string) (string, error) {
	f := sportello.ContentFilter{Language: language}
	if err := f.Validate(); err != nil {
		return "", sportello.InvalidField("language", "must be one of %s", strings.Join(sportello.Languages, ", "))
	}
	if f.Language == "" {
		return sportello.LanguageItalian, nil
	}
	return f.Language, nil
}

// Contents lists items newest first. See sportello.ContentService.
func (s *ContentService) Contents(ctx context.Context, f sportello.ContentFilter, page sportello.Page) (*sportello.ContentList, error) {
	c, editor, err := contentCaller(ctx)
	if err != nil {
		return nil, err
	}
	if err := page.Validate(); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	// The public's list is in order of publication; editors' in order of their last change,
	// so that what they are working on comes first.
	key := "c.published_at"
	if editor {
		key = "c.updated_at"
	}
	var a args
	var conds []string
	if len(f.Types) > 0 {
		conds = append(conds, "c.type = ANY("+a.add(pq.Array(f.Types))+")")
	}
	if f.Language != "" {
		conds = append(conds, "c.language = "+a.add(f.Language))
	}
	if topic := strings.ToLower(strings.TrimSpace(f.Topic)); topic != "" {
		conds = append(conds, "r.topics @> ARRAY["+a.add(topic)+"]::text[]")
	}
	if f.OfficeID != "" {
		if !validID(f.OfficeID) {
			return nil, sportello.InvalidField("filter.officeId", "is not an id")
		}
		conds = append(conds, "r.office_id = "+a.add(f.OfficeID))
	}
	switch {
	case len(f.Statuses) > 0 && !editor:
		return nil, sportello.InvalidField("filter.statuses", "only editors filter by status")
	case len(f.Statuses) > 0:
		conds = append(conds, "c.status = ANY("+a.add(pq.Array(f.Statuses))+")")
	}
	if f.From != nil {
		conds = append(conds, key+" >= "+a.add(*f.From))
	}
	if f.To != nil {
		conds = append(conds, key+" < "+a.add(*f.To))
	}
	if f.EventFrom != nil {
		conds = append(conds, "coalesce(r.event_end, r.event_start) >= "+a.add(*f.EventFrom))
	}
	if page.After != "" {
		k, id, err := decodeKeyCursor(page.After)
		if err != nil {
			return nil, err
		}
		at, perr := time.Parse(time.RFC3339Nano, k)
		if perr != nil {
			return nil, sportello.InvalidField("after", "is not a cursor this list returned")
		}
		conds = append(conds, "("+key+", c.id) < ("+a.add(at)+"::timestamptz, "+a.add(id)+"::uuid)")
	}
	items, err := s.selectContents(ctx, s.db, c, editor, &a, conds,
		"ORDER BY "+key+" DESC, c.id DESC LIMIT "+a.add(page.First+1))
	if err != nil {
		return nil, err
	}
	out := &sportello.ContentList{HasNextPage: len(items) > page.First, Contents: items[:min(len(items), page.First)]}
	for _, it := range out.Contents {
		at := it.UpdatedAt
		if !editor {
			at = *it.PublishedAt
		}
		out.Cursors = append(out.Cursors, encodeKeyCursor(at.UTC().Format(time.RFC3339Nano), it.ID))
	}
	return out, nil
}

// ContentTree returns the pages under a root, by path. See sportello.ContentService.
func (s *ContentService) ContentTree(ctx context.Context, language, root string) ([]*sportello.Content, error) {
	c, editor, err := contentCaller(ctx)
	if err != nil {
		return nil, err
	}
	lang, err := contentLanguage(language)
	if err != nil {
		return nil, err
	}
	root = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(root), "/"))
	var a args
	conds := []string{"c.type = 'PAGE'", "c.language = " + a.add(lang)}
	if root != "" {
		check := sportello.ContentInput{Title: "-", Path: root}
		if err := check.Validate(sportello.ContentPage); err != nil {
			return nil, sportello.InvalidField("root", "must be a path such as /vivere-il-comune")
		}
		p := a.add(root)
		conds = append(conds, "(c.path = "+p+" OR starts_with(c.path, "+p+" || '/'))")
	}
	return s.selectContents(ctx, s.db, c, editor, &a, conds, "ORDER BY c.path")
}

// ContentsByID returns items by id. See sportello.ContentService.
func (s *ContentService) ContentsByID(ctx context.Context, ids []string) (map[string]*sportello.Content, error) {
	c, editor, err := contentCaller(ctx)
	if err != nil {
		return nil, err
	}
	var a args
	items, err := s.selectContents(ctx, s.db, c, editor, &a,
		[]string{"c.id = ANY(" + a.add(pq.Array(validIDs(ids))) + "::uuid[])"}, "")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*sportello.Content, len(items))
	for _, it := range items {
		out[it.ID] = it
	}
	return out, nil
}

// TranslationsByGroup returns the items of translation groups. See sportello.ContentService.
func (s *ContentService) TranslationsByGroup(ctx context.Context, groups []string) (map[string][]*sportello.Content, error) {
	c, editor, err := contentCaller(ctx)
	if err != nil {
		return nil, err
	}
	var a args
	items, err := s.selectContents(ctx, s.db, c, editor, &a,
		[]string{"c.translation_group = ANY(" + a.add(pq.Array(validIDs(groups))) + "::uuid[])"}, "ORDER BY c.language")
	if err != nil {
		return nil, err
	}
	out := make(map[string][]*sportello.Content, len(groups))
	for _, it := range items {
		out[it.TranslationGroup] = append(out[it.TranslationGroup], it)
	}
	return out, nil
}

// ---------------------------------------------------------------------------------------------
// Writing

// revisionFields are the columns of a revision that an input writes.
type revisionFields struct {
	title, summary, body, bodyHTML, bodyText string
	topics                                   []string
	officeID                                 string
	attachments                              []sportello.Link
	cover                                    *sportello.Image
	eventStart, eventEnd                     *time.Time
	eventPlace                               string
}

func fieldsOf(in *sportello.ContentInput) (revisionFields, error) {
	html, text, err := markup.Render(in.Body)
	if err != nil {
		return revisionFields{}, err
	}
	return revisionFields{title: in.Title, summary: in.Summary, body: in.Body, bodyHTML: html, bodyText: text,
		topics: in.Topics, officeID: in.OfficeID, attachments: in.Attachments, cover: in.Cover,
		eventStart: in.EventStart, eventEnd: in.EventEnd, eventPlace: in.EventPlace}, nil
}

// insertRevision writes revision number of the item id (new: "" for a new item, whose id it
// returns) by the staff member who, restoring revision restoredFrom when not 0.
func (s *ContentService) insertRevision(ctx context.Context, tx *sqlx.Tx, tenantID, id string, number int,
	f revisionFields, who *sportello.Staff, restoredFrom int) (string, error) {
	var coverURL, coverAlt string
	if f.cover != nil {
		coverURL, coverAlt = f.cover.URL, f.cover.Alt
	}
	err := tx.GetContext(ctx, &id, `INSERT INTO content_revisions (content_id, number, tenant_id, title, summary, body,
			body_html, body_text, topics, office_id, attachments, cover_url, cover_alt, event_start, event_end, event_place,
			author_id, author_name, restored_from, created_at)
		VALUES (coalesce($1::uuid, gen_random_uuid()), $2, $3, $4, $5, $6, $7, $8, $9::text[], $10::uuid, $11::jsonb, $12, $13,
			$14, $15, $16, $17, $18, $19, $20)
		RETURNING content_id`,
		nullID(id), number, tenantID, f.title, f.summary, f.body, f.bodyHTML, f.bodyText, pq.Array(f.topics), nullID(f.officeID),
		linksArg(f.attachments), coverURL, coverAlt, f.eventStart, f.eventEnd, f.eventPlace, who.ID, who.Name,
		nullInt(restoredFrom), s.db.now())
	if err != nil {
		return "", fmt.Errorf("save revision: %w", err)
	}
	return id, nil
}

func nullInt(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

// contentConflict turns the violation of a unique address into the CONFLICT the client reads.
func contentConflict(err error) error {
	switch {
	case isUniqueViolation(err, "contents_slug"):
		return &sportello.Error{Code: sportello.CodeConflict, Field: "slug", Message: "another item in this language has this slug"}
	case isUniqueViolation(err, "contents_path"):
		return &sportello.Error{Code: sportello.CodeConflict, Field: "path", Message: "another page in this language has this path"}
	case isUniqueViolation(err, "contents_translation"):
		return &sportello.Error{Code: sportello.CodeConflict, Field: "translationOf", Message: "the item already has a translation in this language"}
	}
	return err
}

// CreateContent adds an item. See sportello.ContentService.
func (s *ContentService) CreateContent(ctx context.Context, in sportello.NewContentInput) (*sportello.Content, error) {
	c, err := requireContentEditor(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	f, err := fieldsOf(&in.ContentInput)
	if err != nil {
		return nil, err
	}
	var out *sportello.Content
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkOptionalOffice(ctx, tx, c.tenantID, in.OfficeID); err != nil {
			return err
		}
		var group any
		if in.TranslationOf != "" {
			notFound := &sportello.Error{Code: sportello.CodeNotFound, Field: "translationOf", Message: "content not found"}
			if !validID(in.TranslationOf) {
				return notFound
			}
			var g string
			err := tx.GetContext(ctx, &g, `SELECT translation_group FROM contents WHERE tenant_id = $1 AND id = $2`,
				c.tenantID, in.TranslationOf)
			if errors.Is(err, sql.ErrNoRows) {
				return notFound
			}
			if err != nil {
				return fmt.Errorf("find translated content: %w", err)
			}
			group = g
		}
		who, err := ensureStaff(ctx, tx, c)
		if err != nil {
			return err
		}
		id, err := s.insertRevision(ctx, tx, c.tenantID, "", 1, f, who, 0)
		if err != nil {
			return err
		}
		now := s.db.now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO contents (id, tenant_id, type, language, translation_group, slug, path,
				status, revision, authors, unpublish_at, created_at, updated_at)
			VALUES ($1, $2, $3, $4, coalesce($5::uuid, $1), $6, $7, 'DRAFT', 1, ARRAY[$8::uuid], $9, $10, $10)`,
			id, c.tenantID, in.Type, in.Language, group, in.Slug, nullString(in.Path), who.ID, in.UnpublishAt, now); err != nil {
			return contentConflict(err)
		}
		var a args
		out, err = s.one(ctx, tx, c, true, &a, "c.id = "+a.add(id))
		return err
	})
	if err != nil {
		return nil, wrapInternal("create content", err)
	}
	return out, nil
}

// itemState is what the workflow reads of an item, locked for the transaction.
type itemState struct {
	Type        string         `db:"type"`
	Status      string         `db:"status"`
	Revision    int            `db:"revision"`
	Live        sql.NullInt64  `db:"live_revision"`
	Authors     pq.StringArray `db:"authors"`
	SubmittedBy sql.NullString `db:"submitted_by"`
	UnpublishAt sql.NullTime   `db:"unpublish_at"`
}

// step runs one step of the workflow on an item for an editor: it locks the item, checks that
// the action is allowed from its status, and calls apply with the status it leads to, in one
// transaction; it returns the item as the editor now sees it.
func (s *ContentService) step(ctx context.Context, id string, action sportello.ContentAction,
	apply func(tx *sqlx.Tx, c caller, who *sportello.Staff, st *itemState, next sportello.ContentStatus) error) (*sportello.Content, error) {
	c, err := requireContentEditor(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("content")
	}
	// Publishing and archiving announce the change on the live feed (announce), which must be
	// woken after the commit; the other steps write no event.
	run := s.db.inTx
	if action == sportello.ContentPublish || action == sportello.ContentArchive {
		run = func(ctx context.Context, fn func(tx *sqlx.Tx) error) error {
			return s.db.inEventTx(ctx, c.tenantID, fn)
		}
	}
	var out *sportello.Content
	err = run(ctx, func(tx *sqlx.Tx) error {
		var st itemState
		err := tx.GetContext(ctx, &st, `SELECT type, status, revision, live_revision, authors, submitted_by, unpublish_at
			FROM contents WHERE tenant_id = $1 AND id = $2 FOR UPDATE`, c.tenantID, id)
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.NotFound("content")
		}
		if err != nil {
			return fmt.Errorf("lock content: %w", err)
		}
		next, err := sportello.NextContentStatus(sportello.ContentStatus(st.Status), action)
		if err != nil {
			return err
		}
		who, err := ensureStaff(ctx, tx, c)
		if err != nil {
			return err
		}
		if err := apply(tx, c, who, &st, next); err != nil {
			return err
		}
		var a args
		out, err = s.one(ctx, tx, c, true, &a, "c.id = "+a.add(id))
		return err
	})
	if err != nil {
		return nil, wrapInternal("content "+strings.ToLower(string(action)), err)
	}
	return out, nil
}

// saveRevision writes a new revision of a locked item as its working copy, back in DRAFT: the
// editor joins its authors, and any approval or scheduled publication lapses.
func (s *ContentService) saveRevision(ctx context.Context, tx *sqlx.Tx, c caller, id string, who *sportello.Staff, st *itemState,
	f revisionFields, restoredFrom int, address func(a *args) string) error {
	if _, err := s.insertRevision(ctx, tx, c.tenantID, id, st.Revision+1, f, who, restoredFrom); err != nil {
		return err
	}
	var a args
	author := a.add(who.ID)
	set := `UPDATE contents SET revision = ` + a.add(st.Revision+1) + `, status = 'DRAFT', submitted_by = NULL,
		approved_by = NULL, publish_at = NULL, updated_at = ` + a.add(s.db.now()) + `,
		authors = CASE WHEN ` + author + `::uuid = ANY(authors) THEN authors ELSE authors || ` + author + `::uuid END` + address(&a) + `
		WHERE tenant_id = ` + a.add(c.tenantID) + ` AND id = ` + a.add(id)
	if _, err := tx.ExecContext(ctx, set, a...); err != nil {
		return contentConflict(err)
	}
	return nil
}

// UpdateContent saves a new revision. See sportello.ContentService.
func (s *ContentService) UpdateContent(ctx context.Context, id string, in sportello.ContentInput) (*sportello.Content, error) {
	return s.step(ctx, id, sportello.ContentEdit, func(tx *sqlx.Tx, c caller, who *sportello.Staff, st *itemState, _ sportello.ContentStatus) error {
		if err := in.Validate(sportello.ContentType(st.Type)); err != nil {
			return err
		}
		if err := checkOptionalOffice(ctx, tx, c.tenantID, in.OfficeID); err != nil {
			return err
		}
		f, err := fieldsOf(&in)
		if err != nil {
			return err
		}
		return s.saveRevision(ctx, tx, c, id, who, st, f, 0, func(a *args) string {
			return `, slug = ` + a.add(in.Slug) + `, path = ` + a.add(nullString(in.Path)) + `, unpublish_at = ` + a.add(in.UnpublishAt)
		})
	})
}

// RestoreContentRevision saves an old revision's text as a new one. See sportello.ContentService.
func (s *ContentService) RestoreContentRevision(ctx context.Context, id string, revision int) (*sportello.Content, error) {
	return s.step(ctx, id, sportello.ContentEdit, func(tx *sqlx.Tx, c caller, who *sportello.Staff, st *itemState, _ sportello.ContentStatus) error {
		var r struct {
			revisionRow
			OfficeID    sql.NullString `db:"office_id"`
			Topics      pq.StringArray `db:"topics"`
			Attachments []byte         `db:"attachments"`
			CoverURL    string         `db:"cover_url"`
			CoverAlt    string         `db:"cover_alt"`
			EventStart  sql.NullTime   `db:"event_start"`
			EventEnd    sql.NullTime   `db:"event_end"`
			EventPlace  string         `db:"event_place"`
		}
		err := tx.GetContext(ctx, &r, `SELECT `+revisionColumns+`, office_id, topics, attachments, cover_url, cover_alt,
			event_start, event_end, event_place FROM content_revisions WHERE content_id = $1 AND number = $2`, id, revision)
		if errors.Is(err, sql.ErrNoRows) {
			return &sportello.Error{Code: sportello.CodeNotFound, Field: "revision", Message: "revision not found"}
		}
		if err != nil {
			return fmt.Errorf("read revision: %w", err)
		}
		links, err := readLinks(r.Attachments)
		if err != nil {
			return err
		}
		// The text is rendered again, so a restored revision gets today's sanitizer.
		html, text, err := markup.Render(r.Body)
		if err != nil {
			return err
		}
		f := revisionFields{title: r.Title, summary: r.Summary, body: r.Body, bodyHTML: html, bodyText: text,
			topics: r.Topics, officeID: r.OfficeID.String, attachments: links, eventStart: timePtr(r.EventStart),
			eventEnd: timePtr(r.EventEnd), eventPlace: r.EventPlace}
		if r.CoverURL != "" {
			f.cover = &sportello.Image{URL: r.CoverURL, Alt: r.CoverAlt}
		}
		return s.saveRevision(ctx, tx, c, id, who, st, f, revision, func(*args) string { return "" })
	})
}

// SubmitContentForReview moves a draft to review. See sportello.ContentService.
func (s *ContentService) SubmitContentForReview(ctx context.Context, id string) (*sportello.Content, error) {
	return s.step(ctx, id, sportello.ContentSubmit, func(tx *sqlx.Tx, c caller, who *sportello.Staff, _ *itemState, next sportello.ContentStatus) error {
		_, err := tx.ExecContext(ctx, `UPDATE contents SET status = $3, submitted_by = $4, updated_at = $5
			WHERE tenant_id = $1 AND id = $2`, c.tenantID, id, next, who.ID, s.db.now())
		return err
	})
}

// ApproveContent approves a text in review. See sportello.ContentService.
func (s *ContentService) ApproveContent(ctx context.Context, id string) (*sportello.Content, error) {
	return s.step(ctx, id, sportello.ContentApprove, func(tx *sqlx.Tx, c caller, who *sportello.Staff, st *itemState, next sportello.ContentStatus) error {
		if err := sportello.CheckApprover(who.ID, st.Authors, st.SubmittedBy.String); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE contents SET status = $3, approved_by = $4, updated_at = $5
			WHERE tenant_id = $1 AND id = $2`, c.tenantID, id, next, who.ID, s.db.now())
		return err
	})
}

// PublishContent publishes an approved item now or at a later time. See sportello.ContentService.
func (s *ContentService) PublishContent(ctx context.Context, id string, at *time.Time) (*sportello.Content, error) {
	return s.step(ctx, id, sportello.ContentPublish, func(tx *sqlx.Tx, c caller, _ *sportello.Staff, st *itemState, next sportello.ContentStatus) error {
		now := s.db.now()
		when, err := sportello.PublishTime(now, at, timePtr(st.UnpublishAt))
		if err != nil {
			return err
		}
		if when.After(now) {
			// The scheduler publishes it then (RunSchedule); until then it stays APPROVED.
			_, err := tx.ExecContext(ctx, `UPDATE contents SET publish_at = $3, updated_at = $4 WHERE tenant_id = $1 AND id = $2`,
				c.tenantID, id, when, now)
			return err
		}
		var p publishedRow
		if err := tx.GetContext(ctx, &p, `UPDATE contents SET status = $3, live_revision = revision, published_at = $4,
			publish_at = NULL, authors = '{}', updated_at = $4 WHERE tenant_id = $1 AND id = $2
			RETURNING `+publishedColumns+`, true AS live`, c.tenantID, id, next, now); err != nil {
			return err
		}
		return announce(ctx, tx, &p, now)
	})
}

// announce writes the topic event that tells the portal and the app that an item went online
// or left it, in the transaction of the change (run with inEventTx).
func announce(ctx context.Context, tx *sqlx.Tx, r *publishedRow, at time.Time) error {
	p := r.published()
	return appendTopicEvent(ctx, tx, &sportello.TopicEvent{TenantID: p.TenantID, Topic: sportello.TopicContentPublished,
		SubjectID: p.ID, At: at, Data: p.EventData()})
}

// ArchiveContent takes an item offline. See sportello.ContentService.
func (s *ContentService) ArchiveContent(ctx context.Context, id string) (*sportello.Content, error) {
	return s.step(ctx, id, sportello.ContentArchive, func(tx *sqlx.Tx, c caller, _ *sportello.Staff, st *itemState, next sportello.ContentStatus) error {
		now := s.db.now()
		var p publishedRow
		if err := tx.GetContext(ctx, &p, `UPDATE contents SET status = $3, live_revision = NULL, publish_at = NULL, updated_at = $4
			WHERE tenant_id = $1 AND id = $2 RETURNING `+publishedColumns+`, false AS live`, c.tenantID, id, next, now); err != nil {
			return err
		}
		if !st.Live.Valid {
			return nil // it was not online: nobody keeps a copy to refresh
		}
		return announce(ctx, tx, &p, now)
	})
}

// RunSchedule publishes and unpublishes what is due. See sportello.ContentScheduler.
//
// Each change is one UPDATE whose WHERE clause is the condition of being due: an instance that
// runs it at the same time as another waits for the other's row locks and then finds the rows
// no longer due (PostgreSQL re-checks the condition on the latest row version), so every item
// is published, and announced on the live feed in the same transaction, exactly once.
func (s *ContentService) RunSchedule(ctx context.Context) ([]sportello.PublishedContent, error) {
	ctx = AllTenants(ctx)
	var out []sportello.PublishedContent
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		now := s.db.now()
		var rows []publishedRow
		if err := tx.SelectContext(ctx, &rows, `UPDATE contents SET status = 'PUBLISHED', live_revision = revision,
				published_at = publish_at, publish_at = NULL, authors = '{}', updated_at = $1
			WHERE status = 'APPROVED' AND publish_at <= $1
			RETURNING `+publishedColumns+`, true AS live`, now); err != nil {
			return fmt.Errorf("publish due content: %w", err)
		}
		var gone []publishedRow
		if err := tx.SelectContext(ctx, &gone, `UPDATE contents SET live_revision = NULL, updated_at = $1,
				status = CASE WHEN status = 'PUBLISHED' THEN 'ARCHIVED' ELSE status END
			WHERE live_revision IS NOT NULL AND unpublish_at <= $1
			RETURNING `+publishedColumns+`, false AS live`, now); err != nil {
			return fmt.Errorf("unpublish due content: %w", err)
		}
		for _, r := range append(rows, gone...) {
			if err := announce(ctx, tx, &r, now); err != nil {
				return err
			}
			out = append(out, r.published())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Like inEventTx, for every tenant whose content changed: the live feed wakes after the commit.
	woken := map[string]bool{}
	for _, p := range out {
		if !woken[p.TenantID] {
			woken[p.TenantID] = true
			s.db.committed(ctx, p.TenantID)
		}
	}
	return out, nil
}

const publishedColumns = `id, tenant_id, type, language, slug, coalesce(path, '') AS path`

type publishedRow struct {
	ID       string `db:"id"`
	TenantID string `db:"tenant_id"`
	Type     string `db:"type"`
	Language string `db:"language"`
	Slug     string `db:"slug"`
	Path     string `db:"path"`
	Live     bool   `db:"live"`
}

func (r *publishedRow) published() sportello.PublishedContent {
	return sportello.PublishedContent{ID: r.ID, TenantID: r.TenantID, Type: sportello.ContentType(r.Type),
		Language: r.Language, Slug: r.Slug, Path: r.Path, Live: r.Live}
}

// ---------------------------------------------------------------------------------------------
// Revisions

const revisionColumns = `content_id, number, title, summary, body, author_id, author_name,
	coalesce(restored_from, 0) AS restored_from, created_at`

type revisionRow struct {
	ContentID    string         `db:"content_id"`
	Number       int            `db:"number"`
	Title        string         `db:"title"`
	Summary      string         `db:"summary"`
	Body         string         `db:"body"`
	AuthorID     sql.NullString `db:"author_id"`
	AuthorName   string         `db:"author_name"`
	RestoredFrom int            `db:"restored_from"`
	CreatedAt    time.Time      `db:"created_at"`
}

func (r *revisionRow) revision() *sportello.ContentRevision {
	return &sportello.ContentRevision{ContentID: r.ContentID, Number: r.Number, Title: r.Title, Summary: r.Summary,
		Body: r.Body, Author: sportello.Actor{Kind: sportello.ActorStaff, ID: r.AuthorID.String, Name: r.AuthorName},
		CreatedAt: r.CreatedAt, RestoredFrom: r.RestoredFrom}
}

// revisions reads revisions of an item of the editor's tenant: all of them, or the numbers
// given. It is NOT_FOUND when the item is not the tenant's.
func (s *ContentService) revisions(ctx context.Context, id string, numbers []int) ([]*sportello.ContentRevision, error) {
	c, err := requireContentEditor(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("content")
	}
	var n int
	if err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM contents WHERE tenant_id = $1 AND id = $2`, c.tenantID, id); err != nil {
		return nil, fmt.Errorf("find content: %w", err)
	}
	if n == 0 {
		return nil, sportello.NotFound("content")
	}
	var a args
	query := `SELECT ` + revisionColumns + ` FROM content_revisions WHERE content_id = ` + a.add(id)
	if numbers != nil {
		query += ` AND number = ANY(` + a.add(pq.Array(numbers)) + `::int[])`
	}
	var rows []revisionRow
	if err := s.db.SelectContext(ctx, &rows, query+` ORDER BY number DESC`, a...); err != nil {
		return nil, fmt.Errorf("list revisions: %w", err)
	}
	out := make([]*sportello.ContentRevision, len(rows))
	for i := range rows {
		out[i] = rows[i].revision()
	}
	return out, nil
}

// ContentRevisions lists an item's revisions. See sportello.ContentService.
func (s *ContentService) ContentRevisions(ctx context.Context, id string) ([]*sportello.ContentRevision, error) {
	return s.revisions(ctx, id, nil)
}

// ContentDiff compares two revisions. See sportello.ContentService.
func (s *ContentService) ContentDiff(ctx context.Context, id string, from, to int) ([]sportello.DiffLine, error) {
	revs, err := s.revisions(ctx, id, []int{from, to})
	if err != nil {
		return nil, err
	}
	byNumber := map[int]*sportello.ContentRevision{}
	for _, r := range revs {
		byNumber[r.Number] = r
	}
	a, b := byNumber[from], byNumber[to]
	switch {
	case a == nil:
		return nil, &sportello.Error{Code: sportello.CodeNotFound, Field: "from", Message: "revision not found"}
	case b == nil:
		return nil, &sportello.Error{Code: sportello.CodeNotFound, Field: "to", Message: "revision not found"}
	}
	return sportello.DiffLines(a.DiffText(), b.DiffText()), nil
}
