package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	sportello "github.com/sportello/sportello"
)

// SurveyService implements sportello.SurveyService.
type SurveyService struct {
	db *DB
}

// NewSurveyService returns the survey service over db.
func NewSurveyService(db *DB) *SurveyService { return &SurveyService{db: db} }

var _ sportello.SurveyService = (*SurveyService)(nil)

const surveyColumns = `id, tenant_id, title, description, from_date::text AS from_date, to_date::text AS to_date,
	target, office_id, service_id, channel, anonymous, status, questions, created_at, closed_at`

type surveyRow struct {
	ID          string         `db:"id"`
	TenantID    string         `db:"tenant_id"`
	Title       string         `db:"title"`
	Description string         `db:"description"`
	From        dateColumn     `db:"from_date"`
	To          dateColumn     `db:"to_date"`
	Target      string         `db:"target"`
	OfficeID    sql.NullString `db:"office_id"`
	ServiceID   sql.NullString `db:"service_id"`
	Channel     string         `db:"channel"`
	Anonymous   bool           `db:"anonymous"`
	Status      string         `db:"status"`
	Questions   []byte         `db:"questions"`
	CreatedAt   time.Time      `db:"created_at"`
	ClosedAt    sql.NullTime   `db:"closed_at"`
}

func (r *surveyRow) survey() (*sportello.Survey, error) {
	s := &sportello.Survey{ID: r.ID, TenantID: r.TenantID, Title: r.Title, Description: r.Description,
		From: r.From.Date, To: r.To.Date, Target: sportello.SurveyTarget(r.Target), OfficeID: r.OfficeID.String,
		ServiceID: r.ServiceID.String, Channel: sportello.Channel(r.Channel), Anonymous: r.Anonymous,
		Status: sportello.SurveyStatus(r.Status), CreatedAt: r.CreatedAt}
	if r.ClosedAt.Valid {
		at := r.ClosedAt.Time
		s.ClosedAt = &at
	}
	if err := json.Unmarshal(r.Questions, &s.Questions); err != nil {
		return nil, fmt.Errorf("survey %s: questions: %w", r.ID, err)
	}
	return s, nil
}

// CreateSurvey creates an open survey. See sportello.SurveyService.
func (s *SurveyService) CreateSurvey(ctx context.Context, in sportello.SurveyInput) (*sportello.Survey, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	questions, err := json.Marshal(in.Questions)
	if err != nil {
		return nil, fmt.Errorf("encode questions: %w", err)
	}
	var out *sportello.Survey
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := checkTargets(ctx, tx, c.tenantID, in.OfficeID, in.ServiceID); err != nil {
			return err
		}
		var row surveyRow
		// The JSON goes as text: with binary_parameters lib/pq would send []byte in jsonb's
		// binary format, which it is not.
		if err := tx.GetContext(ctx, &row, `INSERT INTO surveys (tenant_id, title, description, from_date, to_date, target,
			office_id, service_id, channel, anonymous, status, questions, created_at)
			VALUES ($1, $2, $3, $4::date, $5::date, $6, $7, $8, $9, $10, 'OPEN', $11, $12) RETURNING `+surveyColumns,
			c.tenantID, in.Title, in.Description, in.From.String(), in.To.String(), in.Target, nullID(in.OfficeID),
			nullID(in.ServiceID), in.Channel, in.Anonymous, string(questions), s.db.now()); err != nil {
			return fmt.Errorf("insert survey: %w", err)
		}
		out, err = row.survey()
		return err
	})
	return out, err
}

// checkTargets returns NOT_FOUND, naming the field, unless the office and the service (each when
// given) exist in the tenant.
func checkTargets(ctx context.Context, q sqlx.QueryerContext, tenantID, officeID, serviceID string) error {
	if officeID != "" {
		if err := checkOffice(ctx, q, tenantID, officeID, "officeId"); err != nil {
			return err
		}
	}
	if serviceID == "" {
		return nil
	}
	var n int
	if validID(serviceID) {
		if err := sqlx.GetContext(ctx, q, &n, `SELECT count(*) FROM services WHERE id = $1 AND tenant_id = $2`,
			serviceID, tenantID); err != nil {
			return fmt.Errorf("find service: %w", err)
		}
	}
	if n == 0 {
		return &sportello.Error{Code: sportello.CodeNotFound, Field: "serviceId", Message: "service not found"}
	}
	return nil
}

// CloseSurvey stops a survey taking responses. See sportello.SurveyService.
func (s *SurveyService) CloseSurvey(ctx context.Context, id string) (*sportello.Survey, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if !validID(id) {
		return nil, sportello.NotFound("survey")
	}
	var row surveyRow
	err = s.db.GetContext(ctx, &row, `UPDATE surveys SET status = 'CLOSED', closed_at = coalesce(closed_at, $3)
		WHERE id = $1 AND tenant_id = $2 RETURNING `+surveyColumns, id, c.tenantID, s.db.now())
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("survey")
	}
	if err != nil {
		return nil, fmt.Errorf("close survey: %w", err)
	}
	return row.survey()
}

// Survey returns one survey. See sportello.SurveyService.
func (s *SurveyService) Survey(ctx context.Context, id string) (*sportello.Survey, error) {
	c, err := callerFrom(ctx)
	if err != nil {
		return nil, err
	}
	sv, err := getSurvey(ctx, s.db, c.tenantID, id, false)
	if err != nil {
		return nil, err
	}
	if sv.Status != sportello.SurveyOpen && !c.user.HasRole(sportello.RoleManager, sportello.RoleAdmin) {
		return nil, sportello.NotFound("survey")
	}
	return sv, nil
}

func getSurvey(ctx context.Context, q sqlx.QueryerContext, tenantID, id string, lock bool) (*sportello.Survey, error) {
	if !validID(id) {
		return nil, sportello.NotFound("survey")
	}
	query := `SELECT ` + surveyColumns + ` FROM surveys WHERE id = $1 AND tenant_id = $2`
	if lock {
		query += ` FOR SHARE`
	}
	var row surveyRow
	err := sqlx.GetContext(ctx, q, &row, query, id, tenantID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, sportello.NotFound("survey")
	}
	if err != nil {
		return nil, fmt.Errorf("get survey: %w", err)
	}
	return row.survey()
}

// Surveys lists the tenant's surveys. See sportello.SurveyService.
func (s *SurveyService) Surveys(ctx context.Context) ([]*sportello.Survey, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	var rows []surveyRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+surveyColumns+` FROM surveys WHERE tenant_id = $1
		ORDER BY created_at DESC, id DESC`, c.tenantID); err != nil {
		return nil, fmt.Errorf("list surveys: %w", err)
	}
	out := make([]*sportello.Survey, 0, len(rows))
	for i := range rows {
		sv, err := rows[i].survey()
		if err != nil {
			return nil, err
		}
		out = append(out, sv)
	}
	return out, nil
}

// CreateSurveyLinks makes one-time tokens for an anonymous survey. See sportello.SurveyService.
func (s *SurveyService) CreateSurveyLinks(ctx context.Context, surveyID string, count int, at sportello.SurveyResponse) ([]string, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	if count < 1 || count > sportello.MaxSurveyLinksPerCall {
		return nil, sportello.InvalidField("count", "must be between 1 and %d", sportello.MaxSurveyLinksPerCall)
	}
	if at.Channel != "" && !at.Channel.Valid() {
		return nil, sportello.InvalidField("channel", "unknown channel %q", at.Channel)
	}
	var tokens []string
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		sv, err := getSurvey(ctx, tx, c.tenantID, surveyID, true)
		if err != nil {
			return err
		}
		if !sv.Anonymous {
			return sportello.InvalidField("surveyId", "an identified survey is answered by signed-in citizens, without links")
		}
		if sv.Status != sportello.SurveyOpen {
			return sportello.Errorf(sportello.CodeInvalidTransition, "the survey is closed")
		}
		if err := checkTargets(ctx, tx, c.tenantID, at.OfficeID, at.ServiceID); err != nil {
			return err
		}
		hashes := make([][]byte, count)
		for i := range count {
			tok := readableCode(20, 5)
			tokens = append(tokens, tok)
			hashes[i] = hashReceipt(tok)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO survey_links (token_hash, survey_id, office_id, service_id, channel)
			SELECT h, $2, $3, $4, $5 FROM unnest($1::bytea[]) AS h`,
			pq.Array(hashes), sv.ID, nullID(at.OfficeID), nullID(at.ServiceID), at.Channel); err != nil {
			return fmt.Errorf("insert survey links: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tokens, nil
}

// RespondToSurvey records a response. See sportello.SurveyService.
func (s *SurveyService) RespondToSurvey(ctx context.Context, surveyID, token string, r sportello.SurveyResponse) error {
	c, err := callerFrom(ctx)
	if err != nil {
		return err
	}
	if r.Channel != "" && !r.Channel.Valid() {
		return sportello.InvalidField("channel", "unknown channel %q", r.Channel)
	}
	return s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		sv, err := getSurvey(ctx, tx, c.tenantID, surveyID, true)
		if err != nil {
			return err
		}
		now := s.db.now()
		if !sv.AcceptsOn(sportello.DateOf(now)) {
			return sportello.Errorf(sportello.CodeInvalidTransition, "the survey takes responses from %s to %s while open", sv.From, sv.To)
		}
		answers, err := sportello.ValidateAnswers(sv, r.Answers)
		if err != nil {
			return err
		}
		body, err := json.Marshal(answers)
		if err != nil {
			return fmt.Errorf("encode answers: %w", err)
		}
		resp := sportello.SurveyResponse{OfficeID: sv.OfficeID, ServiceID: sv.ServiceID, Channel: sv.Channel}
		if resp.Channel == "" {
			resp.Channel = r.Channel
		}
		citizenID := ""
		if sv.Anonymous {
			if err := useLink(ctx, tx, sv.ID, token, now, &resp); err != nil {
				return err
			}
		} else {
			if citizenID, err = surveyRespondent(ctx, tx, c, sv, token); err != nil {
				return err
			}
		}
		var id string
		err = tx.GetContext(ctx, &id, `INSERT INTO survey_responses (survey_id, tenant_id, citizen_id, office_id, service_id,
			channel, answers, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (survey_id, citizen_id) WHERE citizen_id IS NOT NULL DO NOTHING RETURNING id`,
			sv.ID, c.tenantID, nullID(citizenID), nullID(resp.OfficeID), nullID(resp.ServiceID), resp.Channel,
			string(body), now)
		if errors.Is(err, sql.ErrNoRows) {
			return sportello.Errorf(sportello.CodeConflict, "you already answered this survey")
		}
		if err != nil {
			return fmt.Errorf("insert survey response: %w", err)
		}
		return nil
	})
}

// useLink spends a one-time token of the survey and fills in where it was handed out. A token
// already spent is CONFLICT; one the survey never had is NOT_FOUND.
func useLink(ctx context.Context, tx *sqlx.Tx, surveyID, token string, now time.Time, resp *sportello.SurveyResponse) error {
	if token == "" {
		return sportello.InvalidField("token", "an anonymous survey is answered with the token of its link")
	}
	var link struct {
		OfficeID  sql.NullString `db:"office_id"`
		ServiceID sql.NullString `db:"service_id"`
		Channel   string         `db:"channel"`
		Used      bool           `db:"used"`
	}
	// The link's row is locked and read before the update, so "used" tells whether it was
	// spent before this response (whose transaction then rolls back).
	err := tx.GetContext(ctx, &link, `UPDATE survey_links l SET used_at = $3
		FROM (SELECT token_hash, used_at FROM survey_links WHERE token_hash = $1 AND survey_id = $2 FOR UPDATE) old
		WHERE l.token_hash = old.token_hash
		RETURNING l.office_id, l.service_id, l.channel, old.used_at IS NOT NULL AS used`, hashReceipt(token), surveyID, now)
	if errors.Is(err, sql.ErrNoRows) {
		return &sportello.Error{Code: sportello.CodeNotFound, Field: "token", Message: "link not found"}
	}
	if err != nil {
		return fmt.Errorf("use survey link: %w", err)
	}
	if link.Used {
		return sportello.Errorf(sportello.CodeConflict, "this link was already used to answer")
	}
	if link.OfficeID.Valid {
		resp.OfficeID = link.OfficeID.String
	}
	if link.ServiceID.Valid {
		resp.ServiceID = link.ServiceID.String
	}
	if link.Channel != "" {
		resp.Channel = sportello.Channel(link.Channel)
	}
	return nil
}

// surveyRespondent returns the signed-in citizen answering an identified survey, if they are in
// its target: users of an office or a channel have filed a ticket there, users of a service
// have booked an appointment for it.
func surveyRespondent(ctx context.Context, tx *sqlx.Tx, c caller, sv *sportello.Survey, token string) (string, error) {
	if token != "" {
		return "", sportello.InvalidField("token", "an identified survey is answered signed in, without a link")
	}
	if c.user.Anonymous() {
		return "", sportello.ErrUnauthenticated
	}
	if !c.citizen {
		return "", sportello.Errorf(sportello.CodeForbidden, "surveys are answered by citizens")
	}
	cit, err := ensureCitizen(ctx, tx, c)
	if err != nil {
		return "", err
	}
	var check string
	var arg any
	switch sv.Target {
	case sportello.TargetOfficeUsers:
		check, arg = `SELECT 1 FROM tickets WHERE citizen_id = $1 AND office_id = $2`, sv.OfficeID
	case sportello.TargetChannelUsers:
		check, arg = `SELECT 1 FROM tickets WHERE citizen_id = $1 AND channel = $2`, sv.Channel
	case sportello.TargetServiceUsers:
		check, arg = `SELECT 1 FROM appointments WHERE citizen_id = $1 AND service_id = $2`, sv.ServiceID
	default:
		return cit.ID, nil
	}
	var in bool
	if err := tx.GetContext(ctx, &in, `SELECT EXISTS (`+check+`)`, cit.ID, arg); err != nil {
		return "", fmt.Errorf("check survey target: %w", err)
	}
	if !in {
		return "", sportello.Errorf(sportello.CodeForbidden, "this survey asks the users of %s", sv.Target)
	}
	return cit.ID, nil
}

// SurveyResults summarizes a survey. See sportello.SurveyService.
func (s *SurveyService) SurveyResults(ctx context.Context, id string) (*sportello.SurveyResults, error) {
	c, err := requireManager(ctx)
	if err != nil {
		return nil, err
	}
	sv, err := getSurvey(ctx, s.db, c.tenantID, id, false)
	if err != nil {
		return nil, err
	}
	var rows []struct {
		OfficeID  sql.NullString `db:"office_id"`
		ServiceID sql.NullString `db:"service_id"`
		Channel   string         `db:"channel"`
		Answers   []byte         `db:"answers"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT office_id, service_id, channel, answers FROM survey_responses
		WHERE survey_id = $1 AND tenant_id = $2 ORDER BY created_at, id`, sv.ID, c.tenantID); err != nil {
		return nil, fmt.Errorf("list survey responses: %w", err)
	}
	responses := make([]*sportello.SurveyResponse, 0, len(rows))
	for _, r := range rows {
		resp := &sportello.SurveyResponse{OfficeID: r.OfficeID.String, ServiceID: r.ServiceID.String, Channel: sportello.Channel(r.Channel)}
		if err := json.Unmarshal(r.Answers, &resp.Answers); err != nil {
			return nil, fmt.Errorf("survey %s: answers: %w", sv.ID, err)
		}
		responses = append(responses, resp)
	}
	res := sportello.SummarizeSurvey(sv, responses)
	if err := s.labelBreakdowns(ctx, c.tenantID, res); err != nil {
		return nil, err
	}
	return res, nil
}

// labelBreakdowns names the office and service breakdowns after their offices and services.
func (s *SurveyService) labelBreakdowns(ctx context.Context, tenantID string, res *sportello.SurveyResults) error {
	var ids []string
	for _, b := range append(slices.Clone(res.ByOffice), res.ByService...) {
		ids = append(ids, b.Key)
	}
	if len(ids) == 0 {
		return nil
	}
	var rows []struct {
		ID   string `db:"id"`
		Name string `db:"name"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, name FROM offices WHERE tenant_id = $1 AND id = ANY($2::uuid[])
		UNION ALL SELECT id, title FROM services WHERE tenant_id = $1 AND id = ANY($2::uuid[])`,
		tenantID, pq.Array(validIDs(ids))); err != nil {
		return fmt.Errorf("survey results: names: %w", err)
	}
	names := map[string]string{}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	for _, b := range append(slices.Clone(res.ByOffice), res.ByService...) {
		if n, ok := names[b.Key]; ok {
			b.Label = n
		}
	}
	return nil
}
