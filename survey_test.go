package sportello

import (
	"testing"
)

// testSurvey asks a rating, what went wrong only for ratings of 2 or less, a channel choice,
// topics only for those who chose "Sportello", an NPS score and a comment.
func testSurvey() *Survey {
	return &Survey{Status: SurveyOpen, From: Date{2026, 1, 1}, To: Date{2026, 6, 30}, Questions: []*Question{
		{Key: "voto", Type: QuestionRating, Text: "Come valuta il servizio?", Required: true},
		{Key: "problema", Type: QuestionText, Text: "Che cosa non ha funzionato?", Required: true,
			Condition: &Condition{Question: "voto", AtMost: new(2)}},
		{Key: "canale", Type: QuestionSingleChoice, Text: "Come ci ha contattato?", Options: []string{"Sportello", "App", "Telefono"}},
		{Key: "temi", Type: QuestionMultipleChoice, Text: "Per che cosa?", Options: []string{"Anagrafe", "Tributi", "Altro"},
			Condition: &Condition{Question: "canale", AnyOf: []string{"Sportello"}}},
		{Key: "nps", Type: QuestionNPS, Text: "Consiglierebbe il servizio?"},
		{Key: "note", Type: QuestionText, Text: "Altro da dirci?"},
	}}
}

func TestValidateAnswersChecksTypesRequiredFlagsAndConditions(t *testing.T) {
	tests := []struct {
		name    string
		answers []Answer
		field   string // "" when valid
		kept    int
	}{
		{"a good rating needs no explanation", []Answer{{Question: "voto", Value: new(4)}}, "", 1},
		{"a low rating asks what went wrong", []Answer{{Question: "voto", Value: new(2)}}, "answers.problema", 0},
		{"a low rating with its explanation", []Answer{{Question: "voto", Value: new(1)}, {Question: "problema", Text: "Attesa lunga"}}, "", 2},
		{"an explanation not asked for", []Answer{{Question: "voto", Value: new(5)}, {Question: "problema", Text: "Niente"}}, "answers.problema", 0},
		{"the required rating is missing", []Answer{{Question: "nps", Value: new(9)}}, "answers.voto", 0},
		{"a rating out of range", []Answer{{Question: "voto", Value: new(6)}}, "answers.voto", 0},
		{"a rating of zero", []Answer{{Question: "voto", Value: new(0)}}, "answers.voto", 0},
		{"an NPS of zero", []Answer{{Question: "voto", Value: new(3)}, {Question: "nps", Value: new(0)}}, "", 2},
		{"an NPS of eleven", []Answer{{Question: "voto", Value: new(3)}, {Question: "nps", Value: new(11)}}, "answers.nps", 0},
		{"text for a rating", []Answer{{Question: "voto", Text: "buono"}}, "answers.voto", 0},
		{"an unknown option", []Answer{{Question: "voto", Value: new(3)}, {Question: "canale", Choices: []string{"Fax"}}}, "answers.canale", 0},
		{"two choices for a single choice", []Answer{{Question: "voto", Value: new(3)}, {Question: "canale", Choices: []string{"App", "Telefono"}}}, "answers.canale", 0},
		{"a choice condition that holds", []Answer{{Question: "voto", Value: new(3)}, {Question: "canale", Choices: []string{"Sportello"}},
			{Question: "temi", Choices: []string{"Anagrafe", "Tributi"}}}, "", 3},
		{"a choice condition that does not hold", []Answer{{Question: "voto", Value: new(3)}, {Question: "canale", Choices: []string{"App"}},
			{Question: "temi", Choices: []string{"Anagrafe"}}}, "answers.temi", 0},
		{"the same option twice", []Answer{{Question: "voto", Value: new(3)}, {Question: "canale", Choices: []string{"Sportello"}},
			{Question: "temi", Choices: []string{"Altro", "Altro"}}}, "answers.temi", 0},
		{"a question the survey does not have", []Answer{{Question: "voto", Value: new(3)}, {Question: "colore", Text: "blu"}}, "answers", 0},
		{"a question answered twice", []Answer{{Question: "voto", Value: new(3)}, {Question: "voto", Value: new(4)}}, "answers.voto", 0},
		{"blank text is no answer", []Answer{{Question: "voto", Value: new(3)}, {Question: "note", Text: "  "}}, "", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValidateAnswers(testSurvey(), tc.answers)
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if len(got) != tc.kept {
					t.Fatalf("kept %d answers, want %d", len(got), tc.kept)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != CodeBadUserInput || e.Field != tc.field {
				t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}

func validSurveyInput() SurveyInput {
	s := testSurvey()
	return SurveyInput{Title: "Soddisfazione URP", From: s.From, To: s.To, Target: TargetAllCitizens, Questions: s.Questions}
}

func TestSurveyInputValidation(t *testing.T) {
	tests := []struct {
		name   string
		change func(*SurveyInput)
		field  string
	}{
		{"valid", func(*SurveyInput) {}, ""},
		{"no title", func(in *SurveyInput) { in.Title = " " }, "title"},
		{"ends before it starts", func(in *SurveyInput) { in.To = Date{2025, 12, 31} }, "to"},
		{"runs over a year", func(in *SurveyInput) { in.To = Date{2027, 1, 2} }, "to"},
		{"office users without office", func(in *SurveyInput) { in.Target = TargetOfficeUsers }, "officeId"},
		{"an office for all citizens", func(in *SurveyInput) { in.OfficeID = "x" }, "officeId"},
		{"channel users with their channel", func(in *SurveyInput) { in.Target, in.Channel = TargetChannelUsers, ChannelApp }, ""},
		{"no questions", func(in *SurveyInput) { in.Questions = nil }, "questions"},
		{"a repeated key", func(in *SurveyInput) { in.Questions[1].Key = "voto" }, "questions[1].key"},
		{"an unknown type", func(in *SurveyInput) { in.Questions[0].Type = "SLIDER" }, "questions[0].type"},
		{"a choice with one option", func(in *SurveyInput) { in.Questions[2].Options = []string{"Sportello"} }, "questions[2].options"},
		{"options on a rating", func(in *SurveyInput) { in.Questions[0].Options = []string{"a", "b"} }, "questions[0].options"},
		{"a repeated option", func(in *SurveyInput) { in.Questions[2].Options = []string{"App", "App"} }, "questions[2].options[1]"},
		{"a condition on a later question", func(in *SurveyInput) {
			in.Questions[0].Condition = &Condition{Question: "nps", AtLeast: new(1)}
		}, "questions[0].condition.question"},
		{"atMost on a choice question", func(in *SurveyInput) {
			in.Questions[3].Condition = &Condition{Question: "canale", AtMost: new(2)}
		}, "questions[3].condition"},
		{"anyOf with an unknown option", func(in *SurveyInput) {
			in.Questions[3].Condition = &Condition{Question: "canale", AnyOf: []string{"Fax"}}
		}, "questions[3].condition.anyOf"},
		{"an empty condition", func(in *SurveyInput) {
			in.Questions[1].Condition = &Condition{Question: "voto"}
		}, "questions[1].condition"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := validSurveyInput()
			tc.change(&in)
			err := in.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			e, ok := err.(*Error)
			if !ok || e.Code != CodeBadUserInput || e.Field != tc.field {
				t.Fatalf("error = %v, want BAD_USER_INPUT on %s", err, tc.field)
			}
		})
	}
}

func TestSummarizeSurveyComputesDistributionsCSATAndNPS(t *testing.T) {
	s := testSurvey()
	resp := func(office string, channel Channel, rating, nps int, choice string) *SurveyResponse {
		return &SurveyResponse{OfficeID: office, Channel: channel, Answers: []Answer{
			{Question: "voto", Value: new(rating)}, {Question: "nps", Value: new(nps)},
			{Question: "canale", Choices: []string{choice}}}}
	}
	responses := []*SurveyResponse{
		resp("A", ChannelApp, 5, 10, "App"),
		resp("A", ChannelApp, 4, 9, "App"),
		resp("A", ChannelCounter, 2, 6, "Sportello"),
		resp("B", ChannelCounter, 3, 8, "Sportello"),
		resp("B", ChannelWeb, 1, 0, "Telefono"),
	}
	res := SummarizeSurvey(s, responses)
	if res.Responses != 5 {
		t.Fatalf("responses = %d", res.Responses)
	}
	rating := res.Questions[0]
	// Ratings 5, 4, 2, 3, 1: mean 3, median 3, two of five satisfied (40%).
	if *rating.Average != 3 || *rating.Median != 3 || *rating.CSAT != 40 {
		t.Errorf("rating: average %v median %v csat %v", *rating.Average, *rating.Median, *rating.CSAT)
	}
	want := []OptionCount{{"1", 1}, {"2", 1}, {"3", 1}, {"4", 1}, {"5", 1}}
	for i, c := range rating.Distribution {
		if c != want[i] {
			t.Errorf("distribution[%d] = %+v, want %+v", i, c, want[i])
		}
	}
	// Scores 10, 9, 6, 8, 0: two promoters, two detractors: NPS 0.
	if nps := res.Questions[4].NPS; nps == nil || *nps != 0 {
		t.Errorf("nps = %v", nps)
	}
	channel := res.Questions[2].Distribution
	if channel[0] != (OptionCount{"Sportello", 2}) || channel[1] != (OptionCount{"App", 2}) || channel[2] != (OptionCount{"Telefono", 1}) {
		t.Errorf("channel distribution = %+v", channel)
	}
	// Office A: ratings 5, 4, 2 (CSAT 66.7), scores 10, 9, 6 (NPS (2-1)/3 = 33.3).
	a := res.ByOffice[0]
	if a.Key != "A" || a.Responses != 3 || *a.CSAT != 66.7 || *a.NPS != 33.3 || *a.AverageRating != 11.0/3 {
		t.Errorf("office A = %+v csat %v nps %v", a, *a.CSAT, *a.NPS)
	}
	if len(res.ByChannel) != 3 || res.ByChannel[0].Key != string(ChannelApp) || *res.ByChannel[0].CSAT != 100 {
		t.Errorf("by channel = %+v", res.ByChannel)
	}
	if *res.CSAT != 40 || *res.NPS != 0 {
		t.Errorf("overall csat %v nps %v", *res.CSAT, *res.NPS)
	}
}
