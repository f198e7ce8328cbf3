package db_test

import (
	"testing"

	sportello "github.com/sportello/sportello"
	"github.com/sportello/sportello/db"
)

func TestCampaignKeepsItsDistributionLog(t *testing.T) {
	town := newContentTown(t)
	s := db.NewCampaignService(town.d)
	leaflet := town.create(t, alice, sportello.NewContentInput{Type: sportello.ContentBrochure,
		ContentInput: sportello.ContentInput{Title: "Pieghevole della raccolta differenziata"}})
	in := sportello.CampaignInput{Name: "Differenziata 2027", Goal: "Più carta e vetro separati", Audience: sportello.AudienceExternal,
		TargetGroups: []string{"Famiglie", "Scuole"}, Channels: []sportello.CampaignChannel{sportello.CampaignLeaflets, sportello.CampaignPosters},
		StartsOn: sportello.Date{Year: 2027, Month: 1, Day: 10}, EndsOn: sportello.Date{Year: 2027, Month: 3, Day: 31},
		ContentIDs: []string{leaflet.ID}, ResultLinks: []sportello.Link{{URL: "https://survey.example.it/differenziata", Description: "Questionario di gradimento"}}}

	wantCode(t, ignore(s.CreateCampaign(operatorCtx("op"), in)), sportello.CodeForbidden)
	wantCode(t, ignore(s.CreateCampaign(anonymousCtx(), in)), sportello.CodeUnauthenticated)
	bad := in
	bad.ContentIDs = []string{"00000000-0000-0000-0000-00000000abcd"}
	wantCode(t, ignore(s.CreateCampaign(alice, bad)), sportello.CodeNotFound)
	camp, err := s.CreateCampaign(alice, in)
	if err != nil || camp.Status != sportello.CampaignPlanned || len(camp.ContentIDs) != 1 || camp.ResultLinks[0].Description != "Questionario di gradimento" {
		t.Fatalf("create = %+v, %v", camp, err)
	}
	wantCode(t, ignore(s.CreateCampaign(bruno, in)), sportello.CodeConflict)

	deliveries := []sportello.DistributionInput{
		{Material: "Pieghevole", ContentID: leaflet.ID, Channel: sportello.CampaignLeaflets, Place: "Biblioteca civica", Copies: 200,
			DeliveredOn: sportello.Date{Year: 2027, Month: 1, Day: 12}},
		{Material: "Manifesto 70x100", Channel: sportello.CampaignPosters, Place: "Scuola primaria Dante", Copies: 10,
			DeliveredOn: sportello.Date{Year: 2027, Month: 1, Day: 11}, DeliveredBy: "Servizio affissioni"},
	}
	for _, d := range deliveries {
		if _, err := s.RecordDistribution(bruno, camp.ID, d); err != nil {
			t.Fatal(err)
		}
	}
	social := deliveries[1]
	social.Channel = sportello.CampaignSocial
	wantCode(t, ignore(s.RecordDistribution(bruno, camp.ID, social)), sportello.CodeBadUserInput)
	wantCode(t, ignore(s.RecordDistribution(bruno, "00000000-0000-0000-0000-00000000abcd", deliveries[0])), sportello.CodeNotFound)

	logs, err := s.DistributionsByCampaign(alice, []string{camp.ID})
	if err != nil {
		t.Fatal(err)
	}
	log := logs[camp.ID]
	if len(log) != 2 || log[0].Place != "Scuola primaria Dante" || log[1].DeliveredBy != "Redattore bruno" || log[1].RecordedBy == "" {
		t.Fatalf("log = %+v", log)
	}
	if totals := sportello.TotalDistributions(log); totals.Copies != 210 || totals.Deliveries != 2 {
		t.Fatalf("totals = %+v", totals)
	}

	in.Status = sportello.CampaignRunning
	if got, err := s.UpdateCampaign(marta, camp.ID, in); err != nil || got.Status != sportello.CampaignRunning {
		t.Fatalf("update = %+v, %v", got, err)
	}
	if list, err := s.Campaigns(alice, []sportello.CampaignStatus{sportello.CampaignRunning}); err != nil || len(list) != 1 {
		t.Fatalf("running campaigns = %d, %v", len(list), err)
	}
}
