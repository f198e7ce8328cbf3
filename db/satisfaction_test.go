package db_test

import (
	"context"
	"math"
	"testing"
	"time"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
	"github.com/sportello/sportello/db/dbtest"
)

// town is a municipality with one office open Monday to Friday 9:00-13:00, on a clock the test
// moves.
type town struct {
	d        *db.DB
	now      time.Time
	tickets  *db.TicketService
	feedback *db.FeedbackService
	stats    *db.StatisticsService
	surveys  *db.SurveyService
	office   string
}

func newTown(t *testing.T) *town {
	t.Helper()
	d := dbtest.New(t)
	tw := &town{d: d, tickets: db.NewTicketService(d), feedback: db.NewFeedbackService(d),
		stats: db.NewStatisticsService(d), surveys: db.NewSurveyService(d)}
	d.Now = func() time.Time { return tw.now }
	tw.office = newOffice(t, d, sportello.DefaultTenantID, "Ufficio Tributi")
	for wd := 1; wd <= 5; wd++ {
		if _, err := d.Exec(`INSERT INTO office_hours (office_id, weekday, opens, closes) VALUES ($1, $2, '09:00', '13:00')`,
			tw.office, wd); err != nil {
			t.Fatal(err)
		}
	}
	return tw
}

// at sets the clock to a day of March 2026 (2 March is a Monday) at an hour in Rome.
func (tw *town) at(day, hour, minute int) {
	tw.now = time.Date(2026, 3, day, hour, minute, 0, 0, sportello.Rome)
}

// file files a ticket as the citizen (WEB or APP) or at the desk (other channels) and assigns
// it to the office.
func (tw *town) file(t *testing.T, citizen string, kind sportello.Kind, channel sportello.Channel) *sportello.Ticket {
	t.Helper()
	var sub *sportello.Submission
	var err error
	if channel.SelfService() {
		sub, err = tw.tickets.SubmitTicket(citizenCtx(citizen), sportello.SubmitTicketInput{Kind: kind, Channel: channel,
			Subject: "Oggetto", Body: "Testo della richiesta"})
	} else {
		var cit *sportello.Citizen
		cit, err = db.NewCitizenService(tw.d).CreateCitizen(operatorCtx("op"), sportello.CitizenInput{GivenName: "Giulia",
			FamilyName: "Bianchi " + citizen})
		if err != nil {
			t.Fatal(err)
		}
		sub, err = tw.tickets.RegisterTicket(operatorCtx("op"), sportello.RegisterTicketInput{Kind: kind, Channel: channel,
			Subject: "Oggetto", Body: "Testo", CitizenID: cit.ID})
	}
	if err != nil {
		t.Fatal(err)
	}
	tk, err := tw.tickets.AssignTicket(operatorCtx("op"), sportello.AssignTicketInput{TicketID: sub.Ticket.ID, OfficeID: tw.office})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (tw *town) move(t *testing.T, ctx context.Context, id string, to sportello.Status, reason string) {
	t.Helper()
	if _, err := tw.tickets.TransitionTicket(ctx, sportello.TransitionTicketInput{TicketID: id, To: to, Reason: reason}); err != nil {
		t.Fatalf("move to %s: %v", to, err)
	}
}

func (tw *town) reply(t *testing.T, id string) {
	t.Helper()
	if _, err := tw.tickets.PostMessage(operatorCtx("op"), sportello.PostMessageInput{TicketID: id, Body: "Risposta"}); err != nil {
		t.Fatal(err)
	}
}

// resolve answers a ticket: in progress, then resolved (or rejected, with a reason).
func (tw *town) resolve(t *testing.T, id string, to sportello.Status) {
	t.Helper()
	tk, err := tw.tickets.Ticket(operatorCtx("op"), id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status == sportello.StatusSubmitted {
		tw.move(t, operatorCtx("op"), id, sportello.StatusInProgress, "")
	}
	tw.move(t, operatorCtx("op"), id, to, "Non di competenza")
}

func TestFeedbackRules(t *testing.T) {
	tw := newTown(t)
	tw.at(2, 9, 0)
	own := tw.file(t, "c1", sportello.KindInformation, sportello.ChannelWeb)
	desk := tw.file(t, "c2", sportello.KindComplaint, sportello.ChannelCounter)
	open := tw.file(t, "c1", sportello.KindProposal, sportello.ChannelApp)
	anon, err := tw.tickets.SubmitTicket(anonymousCtx(), sportello.SubmitTicketInput{Kind: sportello.KindReport,
		Subject: "Buca", Body: "In via Roma"})
	if err != nil {
		t.Fatal(err)
	}
	tw.at(3, 10, 0)
	for _, id := range []string{own.ID, desk.ID, anon.Ticket.ID} {
		tw.resolve(t, id, sportello.StatusResolved)
	}
	leave := func(ctx context.Context, id string, level sportello.FeedbackLevel) error {
		_, err := tw.feedback.LeaveFeedback(ctx, sportello.FeedbackInput{TicketID: id, Level: level, Rating: new(4)})
		return err
	}

	wantCode(t, leave(citizenCtx("c1"), open.ID, sportello.FeedbackPositive), sportello.CodeInvalidTransition)
	wantCode(t, leave(citizenCtx("c2"), own.ID, sportello.FeedbackPositive), sportello.CodeNotFound)
	wantCode(t, leave(operatorCtx("op"), own.ID, sportello.FeedbackPositive), sportello.CodeForbidden)
	wantCode(t, leave(anonymousCtx(), own.ID, sportello.FeedbackPositive), sportello.CodeUnauthenticated)
	wantCode(t, leave(citizenCtx("c1"), own.ID, "HAPPY"), sportello.CodeBadUserInput)

	fb, err := tw.feedback.LeaveFeedback(citizenCtx("c1"), sportello.FeedbackInput{TicketID: own.ID,
		Level: sportello.FeedbackPositive, Rating: new(5), Comment: " Grazie! "})
	if err != nil {
		t.Fatal(err)
	}
	if fb.GivenBy != sportello.ActorCitizen || fb.Comment != "Grazie!" || *fb.Rating != 5 {
		t.Errorf("feedback = %+v", fb)
	}
	wantCode(t, leave(citizenCtx("c1"), own.ID, sportello.FeedbackNegative), sportello.CodeConflict)

	// At the desk, the operator enters the judgement of the citizen in front of them.
	if fb, err := tw.feedback.LeaveFeedback(operatorCtx("op"), sportello.FeedbackInput{TicketID: desk.ID,
		Level: sportello.FeedbackNeutral}); err != nil || fb.GivenBy != sportello.ActorStaff {
		t.Fatalf("desk feedback = %+v, %v", fb, err)
	}

	proto := anon.Ticket.Protocol.String()
	_, err = tw.feedback.LeaveFeedbackByReceipt(anonymousCtx(), proto, "WRONG-CODE0", sportello.FeedbackInput{Level: sportello.FeedbackNegative})
	wantCode(t, err, sportello.CodeNotFound)
	if fb, err := tw.feedback.LeaveFeedbackByReceipt(anonymousCtx(), proto, anon.ReceiptCode,
		sportello.FeedbackInput{Level: sportello.FeedbackNegative}); err != nil || fb.GivenBy != sportello.ActorAnonymous {
		t.Fatalf("anonymous feedback = %+v, %v", fb, err)
	}
	_, err = tw.feedback.LeaveFeedbackByReceipt(anonymousCtx(), proto, anon.ReceiptCode, sportello.FeedbackInput{Level: sportello.FeedbackPositive})
	wantCode(t, err, sportello.CodeConflict)

	var n int
	if err := tw.d.Get(&n, `SELECT count(*) FROM ticket_feedback`); err != nil || n != 3 {
		t.Fatalf("%d feedbacks stored (%v), want 3", n, err)
	}
}

func near(t *testing.T, what string, got *float64, want float64) {
	t.Helper()
	if got == nil || math.Abs(*got-want) > 1e-6 {
		t.Errorf("%s = %v, want %v", what, deref(got), want)
	}
}

func deref(v *float64) any {
	if v == nil {
		return nil
	}
	return *v
}

// TestStatisticsMatchHandComputedFigures files four tickets in March 2026 and one just after,
// and checks every figure against the values worked out by hand in the comments.
func TestStatisticsMatchHandComputedFigures(t *testing.T) {
	tw := newTown(t)
	mgr := managerCtx(sportello.DefaultTenantID)

	// A: Monday 9:00, replied 11:00 (2 office hours), resolved Tuesday 10:00 (4 + 1 = 5 office
	// hours, 25 hours = 1.0417 days). Positive feedback.
	tw.at(2, 9, 0)
	a := tw.file(t, "c1", sportello.KindInformation, sportello.ChannelWeb)
	tw.at(2, 11, 0)
	tw.reply(t, a.ID)
	tw.at(3, 10, 0)
	tw.resolve(t, a.ID, sportello.StatusResolved)
	if _, err := tw.feedback.LeaveFeedback(citizenCtx("c1"), sportello.FeedbackInput{TicketID: a.ID, Level: sportello.FeedbackPositive}); err != nil {
		t.Fatal(err)
	}

	// B: Monday 12:00, replied Wednesday 9:30 (1 + 4 + 0.5 = 5.5 office hours, 45.5 hours =
	// 1.8958 days), rejected Thursday 13:00 (1 + 4 + 4 + 4 = 13 office hours, 3.0417 days).
	tw.at(2, 12, 0)
	b := tw.file(t, "c2", sportello.KindComplaint, sportello.ChannelWeb)
	tw.at(4, 9, 30)
	tw.reply(t, b.ID)
	tw.at(5, 13, 0)
	tw.resolve(t, b.ID, sportello.StatusRejected)

	// C: complaints now have 2 days. Tuesday 9:00, due at the end of Thursday, never replied,
	// resolved Friday 10:00: late; first response = resolution = 4 + 4 + 4 + 1 = 13 office
	// hours, 3.0417 days. Negative feedback, rated 2.
	if _, err := db.NewOfficeService(tw.d).SetResponseTerm(mgr, sportello.KindComplaint, "", 2); err != nil {
		t.Fatal(err)
	}
	tw.at(3, 9, 0)
	c := tw.file(t, "c3", sportello.KindComplaint, sportello.ChannelApp)
	tw.at(6, 10, 0)
	tw.resolve(t, c.ID, sportello.StatusResolved)
	if _, err := tw.feedback.LeaveFeedback(citizenCtx("c3"), sportello.FeedbackInput{TicketID: c.ID,
		Level: sportello.FeedbackNegative, Rating: new(2)}); err != nil {
		t.Fatal(err)
	}

	// D: information now has 1 day. Wednesday 10:00 at the counter, still open, overdue on 10
	// March.
	if _, err := db.NewOfficeService(tw.d).SetResponseTerm(mgr, sportello.KindInformation, "", 1); err != nil {
		t.Fatal(err)
	}
	tw.at(4, 10, 0)
	tw.file(t, "c4", sportello.KindInformation, sportello.ChannelCounter)

	// E: 00:30 of 1 April in Rome is still 31 March in UTC, but outside March.
	tw.now = time.Date(2026, 4, 1, 0, 30, 0, 0, sportello.Rome)
	tw.file(t, "c5", sportello.KindReport, sportello.ChannelApp)

	tw.at(10, 12, 0)
	march := sportello.Period{From: sportello.Date{Year: 2026, Month: 3, Day: 1}, To: sportello.Date{Year: 2026, Month: 3, Day: 31}}
	st, err := tw.stats.Statistics(mgr, march, []sportello.StatsDimension{sportello.ByKind, sportello.ByChannel, sportello.ByMonth, sportello.ByOffice})
	if err != nil {
		t.Fatal(err)
	}
	tot := st.Total
	if tot.Tickets != 4 || tot.Answered != 3 || tot.AnsweredOnTime != 2 || tot.Open != 1 || tot.Overdue != 1 {
		t.Fatalf("total = %+v", tot)
	}
	near(t, "on-time share", tot.OnTimeShare, 66.7)
	// First response: 2, 5.5, 13 office hours; the 90th percentile at rank 1.8 is 5.5 + 0.8 ×
	// 7.5 = 11.5. In days: 2/24, 45.5/24, 73/24.
	near(t, "first response median hours", tot.FirstResponse.MedianOfficeHours, 5.5)
	near(t, "first response p90 hours", tot.FirstResponse.P90OfficeHours, 11.5)
	near(t, "first response median days", tot.FirstResponse.MedianDays, 45.5/24)
	near(t, "first response p90 days", tot.FirstResponse.P90Days, 45.5/24+0.8*(73-45.5)/24)
	// Resolution: 5, 13, 13 office hours; 25, 73, 73 hours.
	near(t, "resolution median hours", tot.Resolution.MedianOfficeHours, 13)
	near(t, "resolution p90 hours", tot.Resolution.P90OfficeHours, 13)
	near(t, "resolution median days", tot.Resolution.MedianDays, 73.0/24)
	if s := tot.Satisfaction; s.Positive != 1 || s.Negative != 1 || s.Neutral != 0 {
		t.Errorf("satisfaction = %+v", s)
	}
	near(t, "csat", tot.Satisfaction.CSAT, 50)
	near(t, "average rating", tot.Satisfaction.AverageRating, 2)

	groups := map[string]*sportello.StatsGroup{}
	for _, g := range st.Groups {
		groups[string(g.Dimension)+":"+g.Key] = g
	}
	info, complaint := groups["KIND:INFORMATION"], groups["KIND:COMPLAINT"]
	if info == nil || info.Tickets != 2 || info.Answered != 1 || info.Overdue != 1 {
		t.Errorf("information = %+v", info)
	}
	if complaint == nil || complaint.Tickets != 2 || complaint.AnsweredOnTime != 1 {
		t.Fatalf("complaints = %+v", complaint)
	}
	near(t, "complaints on time", complaint.OnTimeShare, 50)
	near(t, "complaints resolution median hours", complaint.Resolution.MedianOfficeHours, 13)
	if g := groups["CHANNEL:WEB"]; g == nil || g.Tickets != 2 {
		t.Errorf("web = %+v", g)
	}
	if g := groups["CHANNEL:COUNTER"]; g == nil || g.Tickets != 1 {
		t.Errorf("counter = %+v", g)
	}
	if g := groups["MONTH:2026-03"]; g == nil || g.Tickets != 4 || len(st.GroupsBy(sportello.ByMonth)) != 1 {
		t.Errorf("months = %+v", st.GroupsBy(sportello.ByMonth))
	}
	if g := groups["OFFICE:"+tw.office]; g == nil || g.Tickets != 4 || g.Label != "Ufficio Tributi" {
		t.Errorf("office = %+v", g)
	}
	if st.Groups[0].Dimension != sportello.ByKind || st.Groups[len(st.Groups)-1].Dimension != sportello.ByOffice {
		t.Errorf("groups are not in the order asked: %v first, %v last", st.Groups[0].Dimension, st.Groups[len(st.Groups)-1].Dimension)
	}

	// Reopening takes the answer back; the register lists the complaints with their outcome.
	tw.move(t, operatorCtx("op"), a.ID, sportello.StatusInProgress, "")
	st, err = tw.stats.Statistics(mgr, march, nil)
	if err != nil || st.Total.Answered != 2 || len(st.Groups) != 0 {
		t.Fatalf("after reopening: %+v, %v", st.Total, err)
	}
	reg, err := tw.stats.ComplaintsRegister(mgr, march)
	if err != nil {
		t.Fatal(err)
	}
	if len(reg) != 2 || reg[0].Kind != sportello.KindComplaint || !*reg[0].OnTime || *reg[1].OnTime ||
		reg[1].Feedback != sportello.FeedbackNegative || reg[0].Office != "Ufficio Tributi" {
		t.Fatalf("register = %+v %+v", reg[0], reg[1])
	}
}

func TestStatisticsAreForManagersAndCheckTheirInput(t *testing.T) {
	tw := newTown(t)
	tw.at(2, 9, 0)
	p := sportello.Period{From: sportello.Date{Year: 2026, Month: 3, Day: 1}, To: sportello.Date{Year: 2026, Month: 3, Day: 31}}
	_, err := tw.stats.Statistics(operatorCtx("op"), p, nil)
	wantCode(t, err, sportello.CodeForbidden)
	_, err = tw.stats.Statistics(anonymousCtx(), p, nil)
	wantCode(t, err, sportello.CodeUnauthenticated)
	_, err = tw.stats.Statistics(managerCtx(sportello.DefaultTenantID), p, []sportello.StatsDimension{"WEEKDAY"})
	wantField(t, err, sportello.CodeBadUserInput, "groupBy")
	_, err = tw.stats.Statistics(managerCtx(sportello.DefaultTenantID), sportello.Period{From: p.To, To: p.From}, nil)
	wantField(t, err, sportello.CodeBadUserInput, "period.to")
	st, err := tw.stats.Statistics(managerCtx(sportello.DefaultTenantID), p, []sportello.StatsDimension{sportello.ByKind})
	if err != nil || st.Total.Tickets != 0 || len(st.Groups) != 0 || st.Total.OnTimeShare != nil {
		t.Fatalf("empty period: %+v, %v", st, err)
	}
}

func TestSurveysTakeOneResponsePerCitizenOrLink(t *testing.T) {
	tw := newTown(t)
	tw.at(2, 9, 0)
	mgr := managerCtx(sportello.DefaultTenantID)
	questions := func() []*sportello.Question {
		return []*sportello.Question{
			{Key: "voto", Type: sportello.QuestionRating, Text: "Come valuta l'ufficio?", Required: true},
			{Key: "perche", Type: sportello.QuestionText, Text: "Che cosa non va?", Required: true,
				Condition: &sportello.Condition{Question: "voto", AtMost: new(2)}},
		}
	}
	march := func(in sportello.SurveyInput) sportello.SurveyInput {
		in.Title, in.From, in.To, in.Questions = "Soddisfazione", sportello.Date{Year: 2026, Month: 3, Day: 1},
			sportello.Date{Year: 2026, Month: 3, Day: 31}, questions()
		return in
	}
	_, err := tw.surveys.CreateSurvey(operatorCtx("op"), march(sportello.SurveyInput{Target: sportello.TargetAllCitizens}))
	wantCode(t, err, sportello.CodeForbidden)
	_, err = tw.surveys.CreateSurvey(mgr, march(sportello.SurveyInput{Target: sportello.TargetOfficeUsers,
		OfficeID: "00000000-0000-0000-0000-00000000dead"}))
	wantField(t, err, sportello.CodeNotFound, "officeId")

	identified, err := tw.surveys.CreateSurvey(mgr, march(sportello.SurveyInput{Target: sportello.TargetOfficeUsers, OfficeID: tw.office}))
	if err != nil {
		t.Fatal(err)
	}
	if identified.Questions[1].Condition.AtMost == nil || *identified.Questions[1].Condition.AtMost != 2 {
		t.Fatalf("stored questions = %+v", identified.Questions[1])
	}
	answer := func(v int, why string) sportello.SurveyResponse {
		r := sportello.SurveyResponse{Channel: sportello.ChannelApp, Answers: []sportello.Answer{{Question: "voto", Value: new(v)}}}
		if why != "" {
			r.Answers = append(r.Answers, sportello.Answer{Question: "perche", Text: why})
		}
		return r
	}
	// Only users of the office may answer: c1 is one once they filed a ticket there.
	wantCode(t, tw.surveys.RespondToSurvey(citizenCtx("c1"), identified.ID, "", answer(5, "")), sportello.CodeForbidden)
	tw.file(t, "c1", sportello.KindInformation, sportello.ChannelWeb)
	err = tw.surveys.RespondToSurvey(citizenCtx("c1"), identified.ID, "", answer(2, ""))
	wantField(t, err, sportello.CodeBadUserInput, "answers.perche")
	if err := tw.surveys.RespondToSurvey(citizenCtx("c1"), identified.ID, "", answer(2, "Attesa")); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tw.surveys.RespondToSurvey(citizenCtx("c1"), identified.ID, "", answer(5, "")), sportello.CodeConflict)
	wantCode(t, tw.surveys.RespondToSurvey(anonymousCtx(), identified.ID, "", answer(5, "")), sportello.CodeUnauthenticated)
	_, err = tw.surveys.CreateSurveyLinks(mgr, identified.ID, 3, sportello.SurveyResponse{})
	wantField(t, err, sportello.CodeBadUserInput, "surveyId")

	anon, err := tw.surveys.CreateSurvey(mgr, march(sportello.SurveyInput{Target: sportello.TargetAllCitizens, Anonymous: true}))
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := tw.surveys.CreateSurveyLinks(mgr, anon.ID, 2, sportello.SurveyResponse{OfficeID: tw.office, Channel: sportello.ChannelCounter})
	if err != nil || len(tokens) != 2 || tokens[0] == tokens[1] {
		t.Fatalf("tokens = %v, %v", tokens, err)
	}
	err = tw.surveys.RespondToSurvey(anonymousCtx(), anon.ID, "", answer(4, ""))
	wantField(t, err, sportello.CodeBadUserInput, "token")
	err = tw.surveys.RespondToSurvey(anonymousCtx(), anon.ID, "NOT-A-TOKEN", answer(4, ""))
	wantField(t, err, sportello.CodeNotFound, "token")
	for _, tok := range tokens {
		if err := tw.surveys.RespondToSurvey(anonymousCtx(), anon.ID, tok, answer(4, "")); err != nil {
			t.Fatal(err)
		}
	}
	wantCode(t, tw.surveys.RespondToSurvey(anonymousCtx(), anon.ID, tokens[0], answer(5, "")), sportello.CodeConflict)
	// A refused answer does not spend the link.
	more, err := tw.surveys.CreateSurveyLinks(mgr, anon.ID, 1, sportello.SurveyResponse{})
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, tw.surveys.RespondToSurvey(anonymousCtx(), anon.ID, more[0], answer(9, "")), sportello.CodeBadUserInput)
	if err := tw.surveys.RespondToSurvey(anonymousCtx(), anon.ID, more[0], answer(1, "Niente")); err != nil {
		t.Fatal(err)
	}

	res, err := tw.surveys.SurveyResults(mgr, anon.ID)
	if err != nil {
		t.Fatal(err)
	}
	if res.Responses != 3 || len(res.ByOffice) != 1 || res.ByOffice[0].Label != "Ufficio Tributi" || res.ByOffice[0].Responses != 2 {
		t.Fatalf("results = %+v, by office %+v", res, res.ByOffice)
	}
	near(t, "csat", res.CSAT, 66.7)
	if texts := res.Questions[1].Texts; len(texts) != 1 || texts[0] != "Niente" {
		t.Errorf("texts = %v", texts)
	}

	if _, err := tw.surveys.CloseSurvey(mgr, anon.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, tw.surveys.RespondToSurvey(anonymousCtx(), anon.ID, tokens[1], answer(4, "")), sportello.CodeInvalidTransition)
	_, err = tw.surveys.Survey(citizenCtx("c1"), anon.ID)
	wantCode(t, err, sportello.CodeNotFound)
	tw.at(31, 23, 0)
	tw.now = tw.now.Add(2 * time.Hour)
	wantCode(t, tw.surveys.RespondToSurvey(citizenCtx("c2"), identified.ID, "", answer(4, "")), sportello.CodeInvalidTransition)
}
