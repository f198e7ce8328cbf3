package sportello

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"
)

// CampaignAudience is who a communication campaign addresses.
type CampaignAudience string

// The audiences of campaigns.
const (
	AudienceExternal CampaignAudience = "EXTERNAL" // citizens, businesses, visitors
	AudienceInternal CampaignAudience = "INTERNAL" // the municipality's own staff
)

// Valid reports whether a is a known audience.
func (a CampaignAudience) Valid() bool { return a == AudienceExternal || a == AudienceInternal }

// CampaignChannel is a way a campaign reaches its audience.
type CampaignChannel string

// The channels of campaigns.
const (
	CampaignWebsite    CampaignChannel = "WEBSITE"
	CampaignSocial     CampaignChannel = "SOCIAL"
	CampaignPosters    CampaignChannel = "POSTERS"
	CampaignLeaflets   CampaignChannel = "LEAFLETS"
	CampaignAppMessage CampaignChannel = "APP_MESSAGE"
	CampaignEmail      CampaignChannel = "EMAIL"
)

// CampaignChannels lists every campaign channel.
var CampaignChannels = []CampaignChannel{CampaignWebsite, CampaignSocial, CampaignPosters, CampaignLeaflets, CampaignAppMessage, CampaignEmail}

// Valid reports whether c is a known campaign channel.
func (c CampaignChannel) Valid() bool { return slices.Contains(CampaignChannels, c) }

// CampaignStatus is where a campaign stands.
type CampaignStatus string

// The statuses of campaigns.
const (
	CampaignPlanned CampaignStatus = "PLANNED"
	CampaignRunning CampaignStatus = "RUNNING"
	CampaignDone    CampaignStatus = "DONE"
)

// Valid reports whether s is a known campaign status.
func (s CampaignStatus) Valid() bool {
	return s == CampaignPlanned || s == CampaignRunning || s == CampaignDone
}

// Campaign is a communication campaign: what it wants to achieve, with whom, through which
// channels, when, with which content as its material, and the links to its results
// (satisfaction surveys and the like).
type Campaign struct {
	ID           string
	TenantID     string
	Name         string
	Goal         string
	Audience     CampaignAudience
	TargetGroups []string
	Channels     []CampaignChannel
	StartsOn     Date
	EndsOn       Date
	ContentIDs   []string
	Status       CampaignStatus
	ResultLinks  []Link
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// CampaignInput is what the office writes of a campaign.
type CampaignInput struct {
	Name         string
	Goal         string
	Audience     CampaignAudience
	TargetGroups []string
	Channels     []CampaignChannel
	StartsOn     Date
	EndsOn       Date
	ContentIDs   []string
	Status       CampaignStatus // PLANNED when empty
	ResultLinks  []Link
}

// Validate checks and normalizes the input; it returns BAD_USER_INPUT naming the field at fault.
func (in *CampaignInput) Validate() error {
	if err := trimCheck("name", &in.Name, 1, MaxTitleLen); err != nil {
		return err
	}
	if err := trimCheck("goal", &in.Goal, 0, MaxShortTextLen); err != nil {
		return err
	}
	if !in.Audience.Valid() {
		return InvalidField("audience", "must be EXTERNAL or INTERNAL")
	}
	var err error
	if in.TargetGroups, err = normalizeList("targetGroups", in.TargetGroups); err != nil {
		return err
	}
	if len(in.Channels) == 0 {
		return InvalidField("channels", "name at least one channel")
	}
	for _, c := range in.Channels {
		if !c.Valid() {
			return InvalidField("channels", "unknown channel %q", c)
		}
	}
	in.Channels = uniq(in.Channels)
	if in.StartsOn == (Date{}) {
		return InvalidField("startsOn", "must not be empty")
	}
	if in.EndsOn == (Date{}) {
		return InvalidField("endsOn", "must not be empty")
	}
	if in.EndsOn.Compare(in.StartsOn) < 0 {
		return InvalidField("endsOn", "must not be before startsOn")
	}
	in.ContentIDs = uniq(in.ContentIDs)
	if len(in.ContentIDs) > MaxListItems {
		return InvalidField("contentIds", "must be at most %d", MaxListItems)
	}
	if in.Status == "" {
		in.Status = CampaignPlanned
	}
	if !in.Status.Valid() {
		return InvalidField("status", "unknown status %q", in.Status)
	}
	if len(in.ResultLinks) > MaxAttachments {
		return InvalidField("resultLinks", "must be at most %d", MaxAttachments)
	}
	in.ResultLinks, err = normalizeLinks("resultLinks", in.ResultLinks)
	return err
}

// MaxCopies bounds the copies of one delivery: more is a typing mistake.
const MaxCopies = 1_000_000

// Distribution is one delivery of a campaign's material: what went where, how many copies,
// when and by whom ("200 pieghevoli alla biblioteca civica").
type Distribution struct {
	ID          string
	CampaignID  string
	Material    string
	ContentID   string // the content item the material prints, if any
	Channel     CampaignChannel
	Place       string
	Copies      int
	DeliveredOn Date
	DeliveredBy string
	RecordedBy  string // the staff member who recorded it
	Notes       string
	CreatedAt   time.Time
}

// DistributionInput is a delivery to record.
type DistributionInput struct {
	Material    string
	ContentID   string
	Channel     CampaignChannel
	Place       string
	Copies      int
	DeliveredOn Date
	DeliveredBy string // the one who records it when empty
	Notes       string
}

// Validate checks and normalizes the input against the campaign it belongs to; it returns
// BAD_USER_INPUT naming the field at fault.
func (in *DistributionInput) Validate(c *Campaign) error {
	if err := trimCheck("material", &in.Material, 1, MaxTitleLen); err != nil {
		return err
	}
	if !in.Channel.Valid() {
		return InvalidField("channel", "unknown channel %q", in.Channel)
	}
	if !slices.Contains(c.Channels, in.Channel) {
		return InvalidField("channel", "the campaign does not use %s", in.Channel)
	}
	if err := trimCheck("place", &in.Place, 1, MaxPlaceLen); err != nil {
		return err
	}
	if in.Copies < 0 || in.Copies > MaxCopies {
		return InvalidField("copies", "must be between 0 and %d", MaxCopies)
	}
	if in.DeliveredOn == (Date{}) {
		return InvalidField("deliveredOn", "must not be empty")
	}
	if err := trimCheck("deliveredBy", &in.DeliveredBy, 0, MaxNameLen); err != nil {
		return err
	}
	return trimCheck("notes", &in.Notes, 0, MaxShortTextLen)
}

// DistributionTotal adds up the deliveries that share a key (a channel, a place, a material).
type DistributionTotal struct {
	Key        string
	Deliveries int
	Copies     int
}

// DistributionTotals adds up a campaign's distribution log.
type DistributionTotals struct {
	Deliveries int
	Copies     int
	ByChannel  []DistributionTotal // in the order of CampaignChannels
	ByPlace    []DistributionTotal // most copies first
	ByMaterial []DistributionTotal // most copies first
}

// TotalDistributions adds up a distribution log.
func TotalDistributions(ds []*Distribution) *DistributionTotals {
	out := &DistributionTotals{}
	sum := func(totals []DistributionTotal, key string, copies int) []DistributionTotal {
		i := slices.IndexFunc(totals, func(t DistributionTotal) bool { return t.Key == key })
		if i < 0 {
			return append(totals, DistributionTotal{Key: key, Deliveries: 1, Copies: copies})
		}
		totals[i].Deliveries++
		totals[i].Copies += copies
		return totals
	}
	for _, d := range ds {
		out.Deliveries++
		out.Copies += d.Copies
		out.ByChannel = sum(out.ByChannel, string(d.Channel), d.Copies)
		out.ByPlace = sum(out.ByPlace, d.Place, d.Copies)
		out.ByMaterial = sum(out.ByMaterial, d.Material, d.Copies)
	}
	slices.SortFunc(out.ByChannel, func(a, b DistributionTotal) int {
		return slices.Index(CampaignChannels, CampaignChannel(a.Key)) - slices.Index(CampaignChannels, CampaignChannel(b.Key))
	})
	byCopies := func(a, b DistributionTotal) int {
		return cmp.Or(b.Copies-a.Copies, strings.Compare(a.Key, b.Key))
	}
	slices.SortFunc(out.ByPlace, byCopies)
	slices.SortFunc(out.ByMaterial, byCopies)
	return out
}

// CampaignService keeps the communication campaigns and their distribution logs, for the staff
// who write content (EDITOR, MANAGER, ADMIN).
type CampaignService interface {
	// CreateCampaign adds a campaign. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND (content), CONFLICT (name taken).
	CreateCampaign(ctx context.Context, in CampaignInput) (*Campaign, error)
	// UpdateCampaign replaces a campaign's fields. Errors: as CreateCampaign, and NOT_FOUND.
	UpdateCampaign(ctx context.Context, id string, in CampaignInput) (*Campaign, error)
	// RecordDistribution adds a delivery to a campaign's log. Errors: BAD_USER_INPUT,
	// UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (campaign, content).
	RecordDistribution(ctx context.Context, campaignID string, in DistributionInput) (*Distribution, error)
	// Campaign returns a campaign. Errors: UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
	Campaign(ctx context.Context, id string) (*Campaign, error)
	// Campaigns lists campaigns, latest start first, optionally of some statuses. Errors:
	// BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN.
	Campaigns(ctx context.Context, statuses []CampaignStatus) ([]*Campaign, error)
	// DistributionsByCampaign returns the log of each campaign, in order of delivery.
	DistributionsByCampaign(ctx context.Context, campaignIDs []string) (map[string][]*Distribution, error)
}
