package sportello

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// SurveyTarget is who a survey asks.
type SurveyTarget string

// The targets of a survey.
const (
	TargetAllCitizens  SurveyTarget = "ALL_CITIZENS"
	TargetServiceUsers SurveyTarget = "SERVICE_USERS"
	TargetOfficeUsers  SurveyTarget = "OFFICE_USERS"
	TargetChannelUsers SurveyTarget = "CHANNEL_USERS"
)

// SurveyTargets lists every target.
var SurveyTargets = []SurveyTarget{TargetAllCitizens, TargetServiceUsers, TargetOfficeUsers, TargetChannelUsers}

// Valid reports whether t is a known target.
func (t SurveyTarget) Valid() bool { return slices.Contains(SurveyTargets, t) }

// QuestionType is what kind of answer a question takes.
type QuestionType string

// The question types.
const (
	QuestionRating         QuestionType = "RATING" // 1 to 5
	QuestionNPS            QuestionType = "NPS"    // 0 to 10, "how likely are you to recommend"
	QuestionSingleChoice   QuestionType = "SINGLE_CHOICE"
	QuestionMultipleChoice QuestionType = "MULTIPLE_CHOICE"
	QuestionText           QuestionType = "TEXT"
)

// QuestionTypes lists every question type.
var QuestionTypes = []QuestionType{QuestionRating, QuestionNPS, QuestionSingleChoice, QuestionMultipleChoice, QuestionText}

// Valid reports whether t is a known question type.
func (t QuestionType) Valid() bool { return slices.Contains(QuestionTypes, t) }

// Numeric reports whether answers are a number (a rating or a score).
func (t QuestionType) Numeric() bool { return t == QuestionRating || t == QuestionNPS }

// Choice reports whether answers are picked among the question's options.
func (t QuestionType) Choice() bool { return t == QuestionSingleChoice || t == QuestionMultipleChoice }

// bounds returns the range of a numeric question's answers.
func (t QuestionType) bounds() (int, int) {
	if t == QuestionNPS {
		return 0, 10
	}
	return 1, 5
}

// SurveyStatus is whether a survey takes responses.
type SurveyStatus string

// The survey statuses.
const (
	SurveyOpen   SurveyStatus = "OPEN"
	SurveyClosed SurveyStatus = "CLOSED"
)

// Limits on surveys.
const (
	MaxSurveyTitleLen     = 200
	MaxQuestionKeyLen     = 40
	MaxSurveyQuestions    = 50
	MaxQuestionTextLen    = 500
	MaxQuestionOptions    = 20
	MaxOptionLen          = 200
	MaxAnswerTextLen      = 4000
	MaxSurveyLinksPerCall = 1000
	MaxSurveyDays         = 366
)

// Condition makes a question asked only when an earlier one was answered in a way: a number
// at most or at least a value (ask "what went wrong" only if the rating is 2 or less), or any of
// some options of a choice question.
type Condition struct {
	Question string   `json:"question"` // the key of an earlier question
	AtMost   *int     `json:"atMost,omitempty"`
	AtLeast  *int     `json:"atLeast,omitempty"`
	AnyOf    []string `json:"anyOf,omitempty"`
}

// Question is one question of a survey. Its key names it in answers and conditions. The JSON
// names are how surveys store their questions.
type Question struct {
	Key       string       `json:"key"`
	Type      QuestionType `json:"type"`
	Text      string       `json:"text"`
	Required  bool         `json:"required"`
	Options   []string     `json:"options,omitempty"` // choice questions only
	Condition *Condition   `json:"condition,omitempty"`
}

// Survey asks a target of citizens questions over a period.
type Survey struct {
	ID          string
	TenantID    string
	Title       string
	Description string
	From        Date
	To          Date
	Target      SurveyTarget
	// The office, service or channel of the target, for the targets that name one.
	OfficeID  string
	ServiceID string
	Channel   Channel
	// Anonymous surveys are answered through one-time links and record no respondent;
	// identified ones by signed-in citizens, once each.
	Anonymous bool
	Status    SurveyStatus
	Questions []*Question
	CreatedAt time.Time
	ClosedAt  *time.Time
}

// Question returns the question with the key, or nil.
func (s *Survey) Question(key string) *Question {
	for _, q := range s.Questions {
		if q.Key == key {
			return q
		}
	}
	return nil
}

// AcceptsOn reports whether the survey takes responses on day d: open, and within its period.
func (s *Survey) AcceptsOn(d Date) bool {
	return s.Status == SurveyOpen && s.From.Compare(d) <= 0 && d.Compare(s.To) <= 0
}

// SurveyInput is a survey a manager creates.
type SurveyInput struct {
	Title       string
	Description string
	From        Date
	To          Date
	Target      SurveyTarget
	OfficeID    string
	ServiceID   string
	Channel     Channel
	Anonymous   bool
	Questions   []*Question
}

// Validate checks and normalizes a survey; it returns BAD_USER_INPUT naming the field at fault
// (questions[2].options, say).
func (in *SurveyInput) Validate() error {
	in.Title = strings.TrimSpace(in.Title)
	if err := checkLen("title", in.Title, 1, MaxSurveyTitleLen); err != nil {
		return err
	}
	in.Description = strings.TrimSpace(in.Description)
	if err := checkLen("description", in.Description, 0, MaxBodyLen); err != nil {
		return err
	}
	if in.To.Compare(in.From) < 0 {
		return InvalidField("to", "must not be before from")
	}
	if in.From.DaysUntil(in.To) >= MaxSurveyDays {
		return InvalidField("to", "a survey runs at most %d days", MaxSurveyDays)
	}
	if err := in.validateTarget(); err != nil {
		return err
	}
	if len(in.Questions) == 0 || len(in.Questions) > MaxSurveyQuestions {
		return InvalidField("questions", "a survey has 1 to %d questions", MaxSurveyQuestions)
	}
	seen := map[string]*Question{}
	for i, q := range in.Questions {
		field := fmt.Sprintf("questions[%d]", i)
		if err := validateQuestion(field, q, seen); err != nil {
			return err
		}
		seen[q.Key] = q
	}
	return nil
}

func (in *SurveyInput) validateTarget() error {
	if !in.Target.Valid() {
		return InvalidField("target", "unknown target %q", in.Target)
	}
	need := map[SurveyTarget]string{TargetServiceUsers: "serviceId", TargetOfficeUsers: "officeId", TargetChannelUsers: "channel"}[in.Target]
	given := map[string]bool{"serviceId": in.ServiceID != "", "officeId": in.OfficeID != "", "channel": in.Channel != ""}
	for field, ok := range given {
		if ok && field != need {
			return InvalidField(field, "only a survey of %s names one", map[string]string{
				"serviceId": TargetServiceUsers.String(), "officeId": TargetOfficeUsers.String(), "channel": TargetChannelUsers.String()}[field])
		}
		if !ok && field == need {
			return InvalidField(field, "a survey of %s names one", in.Target)
		}
	}
	if in.Channel != "" && !in.Channel.Valid() {
		return InvalidField("channel", "unknown channel %q", in.Channel)
	}
	return nil
}

// String returns the target's name.
func (t SurveyTarget) String() string { return string(t) }

func validateQuestion(field string, q *Question, earlier map[string]*Question) error {
	q.Key = strings.TrimSpace(q.Key)
	if err := checkLen(field+".key", q.Key, 1, MaxQuestionKeyLen); err != nil {
		return err
	}
	if earlier[q.Key] != nil {
		return InvalidField(field+".key", "%q is used by an earlier question", q.Key)
	}
	if !q.Type.Valid() {
		return InvalidField(field+".type", "unknown type %q", q.Type)
	}
	q.Text = strings.TrimSpace(q.Text)
	if err := checkLen(field+".text", q.Text, 1, MaxQuestionTextLen); err != nil {
		return err
	}
	switch {
	case q.Type.Choice() && (len(q.Options) < 2 || len(q.Options) > MaxQuestionOptions):
		return InvalidField(field+".options", "a choice question has 2 to %d options", MaxQuestionOptions)
	case !q.Type.Choice() && len(q.Options) > 0:
		return InvalidField(field+".options", "only choice questions have options")
	}
	for i := range q.Options {
		q.Options[i] = strings.TrimSpace(q.Options[i])
		if err := checkLen(fmt.Sprintf("%s.options[%d]", field, i), q.Options[i], 1, MaxOptionLen); err != nil {
			return err
		}
		if slices.Contains(q.Options[:i], q.Options[i]) {
			return InvalidField(fmt.Sprintf("%s.options[%d]", field, i), "repeats an earlier option")
		}
	}
	if q.Condition != nil {
		return validateCondition(field+".condition", q.Condition, earlier)
	}
	return nil
}

func validateCondition(field string, c *Condition, earlier map[string]*Question) error {
	on := earlier[c.Question]
	if on == nil {
		return InvalidField(field+".question", "must name an earlier question")
	}
	numeric := c.AtMost != nil || c.AtLeast != nil
	switch {
	case numeric && len(c.AnyOf) > 0:
		return InvalidField(field, "give atMost/atLeast or anyOf, not both")
	case numeric && !on.Type.Numeric():
		return InvalidField(field, "atMost and atLeast apply to RATING and NPS questions")
	case len(c.AnyOf) > 0 && !on.Type.Choice():
		return InvalidField(field+".anyOf", "applies to choice questions")
	case !numeric && len(c.AnyOf) == 0:
		return InvalidField(field, "give atMost, atLeast or anyOf")
	}
	for _, o := range c.AnyOf {
		if !slices.Contains(on.Options, o) {
			return InvalidField(field+".anyOf", "%q is not an option of %s", o, on.Key)
		}
	}
	return nil
}

// Answer is the answer to one question: Value for numeric questions, Choices for choice
// questions (one for SINGLE_CHOICE), Text for free text. The JSON names are how responses store
// their answers.
type Answer struct {
	Question string   `json:"question"`
	Value    *int     `json:"value,omitempty"`
	Choices  []string `json:"choices,omitempty"`
	Text     string   `json:"text,omitempty"`
}

// empty reports whether nothing was answered.
func (a *Answer) empty() bool { return a.Value == nil && len(a.Choices) == 0 && a.Text == "" }

// ValidateAnswers checks a response against the survey's questions and conditions, and returns
// the answers in question order. A question whose condition does not hold is not asked: an
// answer to it is refused, and its required flag does not apply. Errors: BAD_USER_INPUT naming
// answers.<key> (or answers, for a question the survey does not have).
func ValidateAnswers(s *Survey, answers []Answer) ([]Answer, error) {
	given := map[string]*Answer{}
	for i := range answers {
		a := &answers[i]
		a.Text = strings.TrimSpace(a.Text)
		if s.Question(a.Question) == nil {
			return nil, InvalidField("answers", "the survey has no question %q", a.Question)
		}
		if given[a.Question] != nil {
			return nil, InvalidField("answers."+a.Question, "is answered twice")
		}
		if !a.empty() {
			given[a.Question] = a
		}
	}
	out := make([]Answer, 0, len(given))
	for _, q := range s.Questions {
		field := "answers." + q.Key
		a := given[q.Key]
		if !asked(q, given) {
			if a != nil {
				return nil, InvalidField(field, "is not asked, given the earlier answers")
			}
			continue
		}
		if a == nil {
			if q.Required {
				return nil, InvalidField(field, "is required")
			}
			continue
		}
		if err := checkAnswer(field, q, a); err != nil {
			return nil, err
		}
		out = append(out, *a)
	}
	return out, nil
}

// asked reports whether q's condition holds on the answers given.
func asked(q *Question, given map[string]*Answer) bool {
	c := q.Condition
	if c == nil {
		return true
	}
	a := given[c.Question]
	if a == nil {
		return false
	}
	if len(c.AnyOf) > 0 {
		for _, ch := range a.Choices {
			if slices.Contains(c.AnyOf, ch) {
				return true
			}
		}
		return false
	}
	if a.Value == nil {
		return false
	}
	return (c.AtMost == nil || *a.Value <= *c.AtMost) && (c.AtLeast == nil || *a.Value >= *c.AtLeast)
}

func checkAnswer(field string, q *Question, a *Answer) error {
	switch {
	case q.Type.Numeric():
		lo, hi := q.Type.bounds()
		if a.Value == nil || len(a.Choices) > 0 || a.Text != "" {
			return InvalidField(field, "a %s question takes a value", q.Type)
		}
		if *a.Value < lo || *a.Value > hi {
			return InvalidField(field, "must be between %d and %d", lo, hi)
		}
	case q.Type.Choice():
		if len(a.Choices) == 0 || a.Value != nil || a.Text != "" {
			return InvalidField(field, "a %s question takes choices", q.Type)
		}
		if q.Type == QuestionSingleChoice && len(a.Choices) > 1 {
			return InvalidField(field, "takes one choice")
		}
		for i, ch := range a.Choices {
			if !slices.Contains(q.Options, ch) {
				return InvalidField(field, "%q is not an option", ch)
			}
			if slices.Contains(a.Choices[:i], ch) {
				return InvalidField(field, "%q is chosen twice", ch)
			}
		}
	default:
		if a.Value != nil || len(a.Choices) > 0 {
			return InvalidField(field, "a TEXT question takes text")
		}
		return checkLen(field, a.Text, 1, MaxAnswerTextLen)
	}
	return nil
}

// SurveyResponse is one citizen's (or one link's) answers, with where they come from for the
// breakdowns: the office, service and channel the respondent used.
type SurveyResponse struct {
	Answers   []Answer
	OfficeID  string
	ServiceID string
	Channel   Channel
}

// OptionCount is how many answers chose an option, or gave a value.
type OptionCount struct {
	Option string
	Count  int
}

// QuestionResult summarizes the answers to one question.
type QuestionResult struct {
	Question *Question
	Answers  int
	// Distribution counts each value (numeric questions, "1" to "5" or "0" to "10") or option
	// (choice questions), in order, including those nobody chose.
	Distribution []OptionCount
	// Average and Median of the values; nil for non-numeric questions or without answers.
	Average *float64
	Median  *float64
	// NPS is the share of promoters (9-10) minus that of detractors (0-6), -100 to 100, for NPS
	// questions. CSAT is the share of satisfied answers (4-5) of a rating, 0 to 100.
	NPS  *float64
	CSAT *float64
	// Texts are the free-text answers, for TEXT questions.
	Texts []string
}

// SurveyBreakdown is the satisfaction of the responses from one office, service or channel.
type SurveyBreakdown struct {
	Key string // the office's or service's id, or the channel
	// Label is the office's or service's name, or the channel.
	Label     string
	Responses int
	// CSAT over every rating question's answers, NPS over every NPS question's, and the average
	// rating; nil without such answers.
	CSAT          *float64
	NPS           *float64
	AverageRating *float64
}

// SurveyResults is what a survey found.
type SurveyResults struct {
	Survey    *Survey
	Responses int
	Questions []*QuestionResult
	CSAT      *float64
	NPS       *float64
	ByOffice  []*SurveyBreakdown
	ByService []*SurveyBreakdown
	ByChannel []*SurveyBreakdown
}

// SummarizeSurvey computes the results of a survey from its responses.
func SummarizeSurvey(s *Survey, responses []*SurveyResponse) *SurveyResults {
	out := &SurveyResults{Survey: s, Responses: len(responses)}
	for _, q := range s.Questions {
		out.Questions = append(out.Questions, summarizeQuestion(q, responses))
	}
	total := breakdown("", s, responses)
	out.CSAT, out.NPS = total.CSAT, total.NPS
	out.ByOffice = breakdowns(s, responses, func(r *SurveyResponse) string { return r.OfficeID })
	out.ByService = breakdowns(s, responses, func(r *SurveyResponse) string { return r.ServiceID })
	out.ByChannel = breakdowns(s, responses, func(r *SurveyResponse) string { return string(r.Channel) })
	return out
}

func summarizeQuestion(q *Question, responses []*SurveyResponse) *QuestionResult {
	res := &QuestionResult{Question: q}
	counts := map[string]int{}
	var values []float64
	for _, r := range responses {
		for _, a := range r.Answers {
			if a.Question != q.Key {
				continue
			}
			res.Answers++
			switch {
			case a.Value != nil:
				values = append(values, float64(*a.Value))
				counts[fmt.Sprint(*a.Value)]++
			case len(a.Choices) > 0:
				for _, c := range a.Choices {
					counts[c]++
				}
			default:
				res.Texts = append(res.Texts, a.Text)
			}
		}
	}
	switch {
	case q.Type.Numeric():
		lo, hi := q.Type.bounds()
		for v := lo; v <= hi; v++ {
			res.Distribution = append(res.Distribution, OptionCount{Option: fmt.Sprint(v), Count: counts[fmt.Sprint(v)]})
		}
		if len(values) > 0 {
			avg := Mean(values)
			med := Percentile(values, 0.5)
			res.Average, res.Median = &avg, &med
		}
		if q.Type == QuestionNPS {
			res.NPS = npsOf(values)
		} else {
			res.CSAT = csatOf(values)
		}
	case q.Type.Choice():
		for _, o := range q.Options {
			res.Distribution = append(res.Distribution, OptionCount{Option: o, Count: counts[o]})
		}
	}
	return res
}

func breakdowns(s *Survey, responses []*SurveyResponse, key func(*SurveyResponse) string) []*SurveyBreakdown {
	groups := map[string][]*SurveyResponse{}
	var keys []string
	for _, r := range responses {
		k := key(r)
		if k == "" {
			continue
		}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	slices.Sort(keys)
	out := make([]*SurveyBreakdown, 0, len(keys))
	for _, k := range keys {
		out = append(out, breakdown(k, s, groups[k]))
	}
	return out
}

func breakdown(key string, s *Survey, responses []*SurveyResponse) *SurveyBreakdown {
	var ratings, scores []float64
	for _, r := range responses {
		for _, a := range r.Answers {
			q := s.Question(a.Question)
			if q == nil || a.Value == nil {
				continue
			}
			if q.Type == QuestionNPS {
				scores = append(scores, float64(*a.Value))
			} else {
				ratings = append(ratings, float64(*a.Value))
			}
		}
	}
	b := &SurveyBreakdown{Key: key, Label: key, Responses: len(responses), CSAT: csatOf(ratings), NPS: npsOf(scores)}
	if len(ratings) > 0 {
		avg := Mean(ratings)
		b.AverageRating = &avg
	}
	return b
}

// csatOf returns the share, 0 to 100, of ratings of 4 or 5; nil without ratings.
func csatOf(ratings []float64) *float64 {
	if len(ratings) == 0 {
		return nil
	}
	n := 0
	for _, v := range ratings {
		if v >= 4 {
			n++
		}
	}
	return Share(n, len(ratings))
}

// npsOf returns the Net Promoter Score of 0-10 scores: the percentage of promoters (9-10) minus
// that of detractors (0-6); nil without scores.
func npsOf(scores []float64) *float64 {
	if len(scores) == 0 {
		return nil
	}
	var promoters, detractors int
	for _, v := range scores {
		switch {
		case v >= 9:
			promoters++
		case v <= 6:
			detractors++
		}
	}
	nps := round1(100 * float64(promoters-detractors) / float64(len(scores)))
	return &nps
}

// Share returns n out of total as a percentage rounded to one decimal; nil when total is zero.
func Share(n, total int) *float64 {
	if total == 0 {
		return nil
	}
	v := round1(100 * float64(n) / float64(total))
	return &v
}

func round1(v float64) float64 { return math.Round(v*10) / 10 }

// SurveyService keeps surveys and their responses. Managers (MANAGER, ADMIN) create, close and
// read them; citizens, and holders of one-time links, respond.
type SurveyService interface {
	// CreateSurvey creates an open survey. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND (office, service).
	CreateSurvey(ctx context.Context, in SurveyInput) (*Survey, error)
	// CloseSurvey stops a survey taking responses. Errors: UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND.
	CloseSurvey(ctx context.Context, id string) (*Survey, error)
	// Survey returns a survey: open ones to anyone (to show the questions), any to managers.
	// Errors: NOT_FOUND.
	Survey(ctx context.Context, id string) (*Survey, error)
	// Surveys lists the tenant's surveys, newest first. Errors: UNAUTHENTICATED, FORBIDDEN.
	Surveys(ctx context.Context) ([]*Survey, error)
	// CreateSurveyLinks returns count one-time tokens to answer an anonymous survey, shown once
	// and stored hashed, optionally marked with the office, service or channel they are handed
	// out at. Errors: BAD_USER_INPUT, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND.
	CreateSurveyLinks(ctx context.Context, surveyID string, count int, ctxOf SurveyResponse) ([]string, error)
	// RespondToSurvey records a response: for an identified survey by the signed-in citizen,
	// once; for an anonymous one with a one-time token, once per token. Errors: BAD_USER_INPUT,
	// UNAUTHENTICATED, FORBIDDEN (staff, or a citizen outside the target), NOT_FOUND (also a
	// token that is wrong), CONFLICT (already answered, token used), INVALID_TRANSITION
	// (closed, or outside its period).
	RespondToSurvey(ctx context.Context, surveyID, token string, r SurveyResponse) error
	// SurveyResults summarizes a survey's responses. Errors: UNAUTHENTICATED, FORBIDDEN,
	// NOT_FOUND.
	SurveyResults(ctx context.Context, id string) (*SurveyResults, error)
}
