package sportello

import (
	"reflect"
	"testing"
)

func TestCampaignInputValidation(t *testing.T) {
	valid := func() CampaignInput {
		return CampaignInput{Name: "Differenziata 2027", Audience: AudienceExternal,
			Channels: []CampaignChannel{CampaignLeaflets, CampaignPosters, CampaignLeaflets},
			StartsOn: Date{2027, 1, 10}, EndsOn: Date{2027, 3, 31}}
	}
	in := valid()
	if err := in.Validate(); err != nil || in.Status != CampaignPlanned || len(in.Channels) != 2 {
		t.Fatalf("valid input: %+v, %v", in, err)
	}
	cases := []struct {
		field  string
		change func(*CampaignInput)
	}{
		{"name", func(in *CampaignInput) { in.Name = " " }},
		{"audience", func(in *CampaignInput) { in.Audience = "EVERYONE" }},
		{"channels", func(in *CampaignInput) { in.Channels = nil }},
		{"channels", func(in *CampaignInput) { in.Channels = []CampaignChannel{"RADIO"} }},
		{"startsOn", func(in *CampaignInput) { in.StartsOn = Date{} }},
		{"endsOn", func(in *CampaignInput) { in.EndsOn = Date{2026, 12, 31} }},
		{"status", func(in *CampaignInput) { in.Status = "PAUSED" }},
		{"resultLinks.url", func(in *CampaignInput) { in.ResultLinks = []Link{{URL: "ftp://x", Description: "Questionario"}} }},
	}
	for _, c := range cases {
		in := valid()
		c.change(&in)
		err := in.Validate()
		if e, ok := err.(*Error); !ok || e.Code != CodeBadUserInput || e.Field != c.field {
			t.Errorf("%s: got %v", c.field, err)
		}
	}
}

func TestDistributionMustUseAChannelOfTheCampaign(t *testing.T) {
	c := &Campaign{Channels: []CampaignChannel{CampaignLeaflets}}
	in := DistributionInput{Material: "Pieghevole", Channel: CampaignPosters, Place: "Biblioteca", Copies: 10, DeliveredOn: Date{2027, 1, 12}}
	if err := in.Validate(c); ErrorCode(err) != CodeBadUserInput {
		t.Fatalf("posters for a leaflet campaign: %v", err)
	}
	in.Channel = CampaignLeaflets
	if err := in.Validate(c); err != nil {
		t.Fatal(err)
	}
	in.Copies = -1
	if err := in.Validate(c); ErrorCode(err) != CodeBadUserInput {
		t.Fatalf("negative copies: %v", err)
	}
}

func TestTotalDistributions(t *testing.T) {
	log := []*Distribution{
		{Material: "Pieghevole", Channel: CampaignLeaflets, Place: "Biblioteca civica", Copies: 200},
		{Material: "Manifesto", Channel: CampaignPosters, Place: "Scuola Dante", Copies: 10},
		{Material: "Pieghevole", Channel: CampaignLeaflets, Place: "Scuola Dante", Copies: 150},
		{Material: "Pieghevole", Channel: CampaignLeaflets, Place: "Biblioteca civica", Copies: 50},
	}
	got := TotalDistributions(log)
	want := &DistributionTotals{Deliveries: 4, Copies: 410,
		ByChannel:  []DistributionTotal{{"POSTERS", 1, 10}, {"LEAFLETS", 3, 400}},
		ByPlace:    []DistributionTotal{{"Biblioteca civica", 2, 250}, {"Scuola Dante", 2, 160}},
		ByMaterial: []DistributionTotal{{"Pieghevole", 3, 400}, {"Manifesto", 1, 10}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	if empty := TotalDistributions(nil); empty.Deliveries != 0 || empty.Copies != 0 {
		t.Fatalf("empty log: %+v", empty)
	}
}
