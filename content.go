package sportello

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// ContentType is the kind of a web content item.
type ContentType string

// The types of content.
const (
	ContentPage     ContentType = "PAGE"     // a section of the website, at a path of the section tree
	ContentNews     ContentType = "NEWS"     // a news item (notizia)
	ContentNotice   ContentType = "NOTICE"   // a notice (avviso)
	ContentBrochure ContentType = "BROCHURE" // the text of a printable leaflet
	ContentEvent    ContentType = "EVENT"    // an event, with its dates and place
)

// ContentTypes lists every content type.
var ContentTypes = []ContentType{ContentPage, ContentNews, ContentNotice, ContentBrochure, ContentEvent}

// Valid reports whether t is a known content type.
func (t ContentType) Valid() bool { return slices.Contains(ContentTypes, t) }

// ContentStatus is where the working copy of an item stands in the editorial workflow:
// DRAFT → IN_REVIEW → APPROVED → PUBLISHED → ARCHIVED. Any edit sends it back to DRAFT; a
// published item stays online, as it was approved, until a new revision is published over it.
type ContentStatus string

// The statuses of content.
const (
	ContentDraft     ContentStatus = "DRAFT"
	ContentInReview  ContentStatus = "IN_REVIEW"
	ContentApproved  ContentStatus = "APPROVED"
	ContentPublished ContentStatus = "PUBLISHED"
	ContentArchived  ContentStatus = "ARCHIVED"
)

// ContentStatuses lists every content status.
var ContentStatuses = []ContentStatus{ContentDraft, ContentInReview, ContentApproved, ContentPublished, ContentArchived}

// Valid reports whether s is a known content status.
func (s ContentStatus) Valid() bool { return slices.Contains(ContentStatuses, s) }

// ContentAction is a step of the editorial workflow.
type ContentAction string

// The steps of the workflow.
const (
	ContentEdit    ContentAction = "EDIT"    // save a new revision (also restoring an old one)
	ContentSubmit  ContentAction = "SUBMIT"  // ask for review
	ContentApprove ContentAction = "APPROVE" // by someone who did not write the text
	ContentPublish ContentAction = "PUBLISH" // now, or at a scheduled time
	ContentArchive ContentAction = "ARCHIVE" // take offline, keeping every revision
)

// contentMoves is the workflow: the statuses each action may start from, and where it leads.
var contentMoves = map[ContentAction]struct {
	from []ContentStatus
	to   ContentStatus
}{
	ContentEdit:    {ContentStatuses, ContentDraft},
	ContentSubmit:  {[]ContentStatus{ContentDraft}, ContentInReview},
	ContentApprove: {[]ContentStatus{ContentInReview}, ContentApproved},
	ContentPublish: {[]ContentStatus{ContentApproved}, ContentPublished},
	ContentArchive: {[]ContentStatus{ContentDraft, ContentInReview, ContentApproved, ContentPublished}, ContentArchived},
}

// NextContentStatus returns the status an action leads to from a status. Errors:
// INVALID_TRANSITION.
func NextContentStatus(from ContentStatus, action ContentAction) (ContentStatus, error) {
	m, ok := contentMoves[action]
	if !ok || !slices.Contains(m.from, from) {
		return "", Errorf(CodeInvalidTransition, "cannot %s content that is %s", strings.ToLower(string(action)), from)
	}
	return m.to, nil
}

// WritesContent reports whether the user may write web content, preview drafts and take part
// in its review: editors, managers and administrators.
func (u *User) WritesContent() bool {
	return !u.Anonymous() && u.HasRole(RoleEditor, RoleManager, RoleAdmin)
}

// CheckApprover refuses an approval by someone who wrote or submitted the text under review:
// authors are the staff ids that saved revisions since the item was last published, and the
// one who submitted it. Errors: FORBIDDEN.
func CheckApprover(staffID string, authors []string, submittedBy string) error {
	if slices.Contains(authors, staffID) || staffID == submittedBy {
		return Errorf(CodeForbidden, "you wrote or submitted this text: another editor or a manager approves it")
	}
	return nil
}

// The languages content is written in.
const (
	LanguageItalian = "it"
	LanguageEnglish = "en"
)

// Languages lists the languages content may be written in.
var Languages = []string{LanguageItalian, LanguageEnglish}

// Limits on content, in characters.
const (
	MaxContentBodyLen = 100000
	MaxPathLen        = 300
	MaxPathDepth      = 6
	MaxAttachments    = 20
	MaxPlaceLen       = 300
)

// Link is an address with a description: an attachment of a content item, a survey of a
// campaign.
type Link struct {
	URL         string
	Description string
}

// Image is a picture by address, with the alternative text that screen readers read.
type Image struct {
	URL string
	Alt string
}

// Content is a web content item as one of its revisions tells it: the working copy for editors,
// the live revision for everyone else.
type Content struct {
	ID       string
	TenantID string
	Type     ContentType
	Language string
	// TranslationGroup links the translations of one item: the id of the item they translate.
	TranslationGroup string
	Slug             string
	Path             string // pages only
	Status           ContentStatus
	Revision         int // the revision this value tells
	LatestRevision   int // the working copy's
	LiveRevision     int // the revision the public sees; 0 when the item is not online

	Title       string
	Summary     string
	Body        string // Markdown
	BodyHTML    string // rendered and sanitized when the revision was saved
	Topics      []string
	OfficeID    string
	Attachments []Link
	Cover       *Image
	EventStart  *time.Time
	EventEnd    *time.Time
	EventPlace  string

	PublishAt   *time.Time // the scheduled publication of an approved item
	UnpublishAt *time.Time // when the item leaves the portal
	PublishedAt *time.Time // when the live revision went live
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Live reports whether the public sees the item.
func (c *Content) Live() bool { return c.LiveRevision > 0 }

// ParentPath returns the path of the section a page belongs to, "" for a top-level page.
func ParentPath(path string) string {
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return ""
	}
	return path[:i]
}

// NewContentInput is what an editor writes to create an item: its type and language, which do
// not change afterwards, and its text.
type NewContentInput struct {
	Type     ContentType
	Language string // LanguageItalian when empty
	// TranslationOf is the id of the item this one translates, if any.
	TranslationOf string
	ContentInput
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *NewContentInput) Validate() error {
	if !in.Type.Valid() {
		return InvalidField("type", "unknown content type %q", in.Type)
	}
	in.Language = strings.ToLower(strings.TrimSpace(in.Language))
	if in.Language == "" {
		in.Language = LanguageItalian
	}
	if !slices.Contains(Languages, in.Language) {
		return InvalidField("language", "must be one of %s", strings.Join(Languages, ", "))
	}
	return in.ContentInput.Validate(in.Type)
}

// ContentInput is the text of an item and its address; every save of it is a revision.
type ContentInput struct {
	// Slug is the last part of the item's address, unique per municipality and language
	// among news, notices, brochures and events; derived from the title when empty. A page's
	// slug is the last part of its path, and its path is its address.
	Slug        string
	Path        string // pages only: /vivere-il-comune/urp
	Title       string
	Summary     string
	Body        string // Markdown
	Topics      []string
	OfficeID    string
	Attachments []Link
	Cover       *Image
	EventStart  *time.Time // events only, and required for them
	EventEnd    *time.Time
	EventPlace  string
	UnpublishAt *time.Time
}

var pathPattern = regexp.MustCompile(`^(/[a-z0-9]+(-[a-z0-9]+)*)+$`)

// Validate checks and normalizes the input of an item of type t; it returns BAD_USER_INPUT
// naming the field at fault.
func (in *ContentInput) Validate(t ContentType) error {
	if err := trimCheck("title", &in.Title, 1, MaxTitleLen); err != nil {
		return err
	}
	if err := trimCheck("summary", &in.Summary, 0, MaxSummaryLen); err != nil {
		return err
	}
	if err := trimCheck("body", &in.Body, 0, MaxContentBodyLen); err != nil {
		return err
	}
	if err := in.validateAddress(t); err != nil {
		return err
	}
	var err error
	if in.Topics, err = NormalizeTopics("topics", in.Topics); err != nil {
		return err
	}
	if len(in.Attachments) > MaxAttachments {
		return InvalidField("attachments", "must be at most %d", MaxAttachments)
	}
	if in.Attachments, err = normalizeLinks("attachments", in.Attachments); err != nil {
		return err
	}
	if in.Cover != nil {
		if in.Cover.URL, err = NormalizeURL("cover.url", in.Cover.URL); err != nil {
			return err
		}
		if in.Cover.URL == "" {
			return InvalidField("cover.url", "must not be empty")
		}
		// Accessibility rules for public administrations (L. 4/2004) want every meaningful
		// image described.
		if err := trimCheck("cover.alt", &in.Cover.Alt, 1, MaxShortTextLen); err != nil {
			return err
		}
	}
	return in.validateEvent(t)
}

func (in *ContentInput) validateAddress(t ContentType) error {
	in.Path = strings.TrimSpace(in.Path)
	in.Slug = strings.TrimSpace(in.Slug)
	if t != ContentPage {
		if in.Path != "" {
			return InvalidField("path", "only pages have a path")
		}
		var err error
		in.Slug, err = NormalizeSlug("slug", in.Slug, in.Title)
		return err
	}
	in.Path = strings.ToLower(strings.TrimSuffix(in.Path, "/"))
	switch {
	case in.Path == "":
		return InvalidField("path", "a page needs its path, such as /vivere-il-comune/urp")
	case len(in.Path) > MaxPathLen:
		return InvalidField("path", "must be at most %d characters", MaxPathLen)
	case !pathPattern.MatchString(in.Path):
		return InvalidField("path", "must be lowercase words joined by hyphens, under / (such as /vivere-il-comune/urp)")
	case strings.Count(in.Path, "/") > MaxPathDepth:
		return InvalidField("path", "must be at most %d levels deep", MaxPathDepth)
	}
	last := in.Path[strings.LastIndexByte(in.Path, '/')+1:]
	if in.Slug != "" && in.Slug != last {
		return InvalidField("slug", "a page's slug is the last part of its path (%s)", last)
	}
	in.Slug = last
	return nil
}

func (in *ContentInput) validateEvent(t ContentType) error {
	if err := trimCheck("eventPlace", &in.EventPlace, 0, MaxPlaceLen); err != nil {
		return err
	}
	if t != ContentEvent {
		if in.EventStart != nil || in.EventEnd != nil || in.EventPlace != "" {
			return InvalidField("eventStart", "only events have dates and a place")
		}
		return nil
	}
	if in.EventStart == nil {
		return InvalidField("eventStart", "an event needs its start")
	}
	if in.EventEnd != nil && in.EventEnd.Before(*in.EventStart) {
		return InvalidField("eventEnd", "must not be before eventStart")
	}
	return nil
}

// normalizeLinks checks the addresses of links and trims their descriptions.
func normalizeLinks(field string, links []Link) ([]Link, error) {
	out := make([]Link, 0, len(links))
	for _, l := range links {
		var err error
		if l.URL, err = NormalizeURL(field+".url", l.URL); err != nil {
			return nil, err
		}
		if l.URL == "" {
			return nil, InvalidField(field+".url", "must not be empty")
		}
		if err := trimCheck(field+".description", &l.Description, 1, MaxShortTextLen); err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}

// PublishTime returns when an item published with at (nil: now) goes live, which must be
// before it is due to leave the portal. A time in the past publishes now. Errors:
// BAD_USER_INPUT (at).
func PublishTime(now time.Time, at, unpublishAt *time.Time) (time.Time, error) {
	when := now
	if at != nil && at.After(now) {
		when = *at
	}
	if unpublishAt != nil && !unpublishAt.After(when) {
		return time.Time{}, InvalidField("at", "must be before the item's unpublishAt (%s)", unpublishAt.Format(time.RFC3339))
	}
	return when, nil
}

// ContentRevision is one save of an item's text.
type ContentRevision struct {
	ContentID    string
	Number       int
	Title        string
	Summary      string
	Body         string
	Author       Actor
	CreatedAt    time.Time
	RestoredFrom int // the revision whose text this one restored; 0 for an ordinary save
}

// DiffText is the text of a revision as diffs compare it: title, summary and body, line by line.
func (r *ContentRevision) DiffText() string {
	return "# " + r.Title + "\n\n" + r.Summary + "\n\n" + r.Body
}

// ContentFilter narrows a list of content. Zero fields do not filter.
type ContentFilter struct {
	Types     []ContentType
	Language  string
	Topic     string
	OfficeID  string
	Statuses  []ContentStatus // editors only; the public sees what is online
	From      *time.Time      // published (for editors: last changed) at or after
	To        *time.Time      // and before
	EventFrom *time.Time      // events ending (or, without an end, starting) at or after
}

// Validate checks the filter; it returns BAD_USER_INPUT naming the field at fault.
func (f *ContentFilter) Validate() error {
	for _, t := range f.Types {
		if !t.Valid() {
			return InvalidField("filter.types", "unknown content type %q", t)
		}
	}
	for _, s := range f.Statuses {
		if !s.Valid() {
			return InvalidField("filter.statuses", "unknown status %q", s)
		}
	}
	f.Language = strings.ToLower(strings.TrimSpace(f.Language))
	if f.Language != "" && !slices.Contains(Languages, f.Language) {
		return InvalidField("filter.language", "must be one of %s", strings.Join(Languages, ", "))
	}
	if f.From != nil && f.To != nil && f.To.Before(*f.From) {
		return InvalidField("filter.to", "must not be before from")
	}
	return nil
}

// ContentList is one page of content, newest first.
type ContentList struct {
	Contents    []*Content
	Cursors     []string
	HasNextPage bool
}

// ContentService keeps the web content and its workflow. Everyone reads what is online now;
// editors (EDITOR, MANAGER, ADMIN) read and write working copies, and an item the caller may
// not see is NOT_FOUND. Every save is a revision, and every mutation one transaction.
type ContentService interface {
	// CreateContent adds an item as a DRAFT, with its first revision. Errors: BAD_USER_INPUT,
	// UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (office, translated item), CONFLICT (slug, path, or
	// a translation in that language, taken).
	CreateContent(ctx context.Context, in NewContentInput) (*Content, error)
	// UpdateContent saves a new revision and sends the item back to DRAFT; what is online stays
	// online until a new revision is published. Errors: as CreateContent.
	UpdateContent(ctx context.Context, id string, in ContentInput) (*Content, error)
	// SubmitContentForReview moves a draft to IN_REVIEW. Errors: UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND, INVALID_TRANSITION.
	SubmitContentForReview(ctx context.Context, id string) (*Content, error)
	// ApproveContent approves a text in review, by someone who did not write or submit it.
	// Errors: as SubmitContentForReview (FORBIDDEN for one's own text).
	ApproveContent(ctx context.Context, id string) (*Content, error)
	// PublishContent puts an approved item online now or, with a later at, schedules it.
	// Errors: as SubmitContentForReview, and BAD_USER_INPUT (at after unpublishAt).
	PublishContent(ctx context.Context, id string, at *time.Time) (*Content, error)
	// ArchiveContent takes an item offline for good, keeping its revisions. Errors: as
	// SubmitContentForReview.
	ArchiveContent(ctx context.Context, id string) (*Content, error)
	// RestoreContentRevision saves the text of an old revision as a new one, in DRAFT. Errors:
	// as SubmitContentForReview, and NOT_FOUND (revision).
	RestoreContentRevision(ctx context.Context, id string, revision int) (*Content, error)

	// Content returns an item by id. Errors: NOT_FOUND.
	Content(ctx context.Context, id string) (*Content, error)
	// ContentByPath returns the page at a path. Errors: NOT_FOUND, BAD_USER_INPUT (language).
	ContentByPath(ctx context.Context, path, language string) (*Content, error)
	// ContentBySlug returns the item (not a page: pages are found by path) with a slug.
	// Errors: as ContentByPath.
	ContentBySlug(ctx context.Context, slug, language string) (*Content, error)
	// Contents lists items newest first (by publication for the public, by last change for
	// editors). Errors: BAD_USER_INPUT.
	Contents(ctx context.Context, f ContentFilter, page Page) (*ContentList, error)
	// ContentTree returns the pages under root ("" for all), by path: the section tree.
	// Errors: BAD_USER_INPUT.
	ContentTree(ctx context.Context, language, root string) ([]*Content, error)
	// ContentsByID returns the items among ids that the caller may see.
	ContentsByID(ctx context.Context, ids []string) (map[string]*Content, error)
	// TranslationsByGroup returns the items of each translation group that the caller may see.
	TranslationsByGroup(ctx context.Context, groups []string) (map[string][]*Content, error)

	// ContentRevisions lists an item's revisions, newest first. Errors: UNAUTHENTICATED,
	// FORBIDDEN, NOT_FOUND.
	ContentRevisions(ctx context.Context, id string) ([]*ContentRevision, error)
	// ContentDiff compares two revisions of an item line by line. Errors: as
	// ContentRevisions, NOT_FOUND (revision).
	ContentDiff(ctx context.Context, id string, from, to int) ([]DiffLine, error)
}

// PublishedContent says that an item went online, or left it: what the portal and the app need
// to refresh their caches.
type PublishedContent struct {
	ID       string      `json:"id"`
	TenantID string      `json:"-"`
	Type     ContentType `json:"type"`
	Language string      `json:"language"`
	Slug     string      `json:"slug"`
	Path     string      `json:"path,omitempty"`
	// Live is false when the item left the portal (archived, or its unpublishAt came).
	Live bool `json:"live"`
}

// EventData is what the event of TopicContentPublished carries.
func (p *PublishedContent) EventData() json.RawMessage {
	// Marshalling a struct of strings and a bool cannot fail.
	b, _ := json.Marshal(p)
	return b
}

// PublishedContentOf returns what a topic event of TopicContentPublished announces.
func PublishedContentOf(e *TopicEvent) (*PublishedContent, error) {
	var p PublishedContent
	if err := json.Unmarshal(e.Data, &p); err != nil {
		return nil, fmt.Errorf("decode content event %s: %w", e.Cursor(), err)
	}
	p.TenantID = e.TenantID
	return &p, nil
}

// ContentScheduler carries out scheduled publications and unpublications.
type ContentScheduler interface {
	// RunSchedule publishes every approved item whose publishAt has come and takes offline
	// every live item whose unpublishAt has come, of every tenant, each exactly once however
	// many instances run it at the same time. It returns what it changed.
	RunSchedule(ctx context.Context) ([]PublishedContent, error)
}
