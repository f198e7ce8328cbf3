package db

import (
	"context"
	"fmt"
	"time"

	sportello "github.com/sportello/sportello"
)

// DemoEditorSubject is the demo editor of the municipality's website.
const DemoEditorSubject = "demo-editor"

// DemoEditor writes the demo web content; DemoManager approves it.
var DemoEditor = sportello.User{
	TenantID: sportello.DefaultTenantID, Subject: DemoEditorSubject, Roles: []sportello.Role{sportello.RoleEditor},
	GivenName: "Giulia", FamilyName: "Ferri", Email: "giulia.ferri@comune.example.it",
}

const urpBody = `L'Ufficio Relazioni con il Pubblico informa e orienta i cittadini sui servizi del Comune,
riceve segnalazioni, reclami e suggerimenti e le richieste di accesso agli atti.

## Orari di apertura

| Giorno | Mattina | Pomeriggio |
|---|---|---|
| Lunedì | 9:00 - 13:00 | |
| Martedì | 9:00 - 13:00 | 16:00 - 18:00 |
| Mercoledì | 9:00 - 13:00 | |
| Giovedì | 9:00 - 13:00 | 16:00 - 18:00 |
| Venerdì | 9:00 - 13:00 | |

L'ufficio è chiuso il 24 giugno, festa di San Giovanni Battista.

## Dove siamo

Piazza del Municipio 1, piano terra. Telefono +39 0612345600, e-mail
[urp@comune.example.it](mailto:urp@comune.example.it).

## Cosa puoi fare

- chiedere informazioni sui servizi e sui procedimenti;
- presentare una segnalazione, un reclamo o un suggerimento, anche dall'app;
- chiedere l'accesso agli atti.

Puoi prenotare un appuntamento allo sportello dall'app o dal [portale](/vivere-il-comune/prenotazioni).`

type demoContent struct {
	in      sportello.NewContentInput
	publish bool
}

func demoContents(now time.Time, urp string) []demoContent {
	day := func(days int, hour int) *time.Time {
		d := now.In(sportello.Rome)
		t := time.Date(d.Year(), d.Month(), d.Day()+days, hour, 0, 0, 0, sportello.Rome)
		return &t
	}
	page := func(path, title, summary, body string) sportello.NewContentInput {
		return sportello.NewContentInput{Type: sportello.ContentPage, ContentInput: sportello.ContentInput{
			Path: path, Title: title, Summary: summary, Body: body, OfficeID: urp}}
	}
	item := func(t sportello.ContentType, title, summary, body string, topics ...string) sportello.NewContentInput {
		return sportello.NewContentInput{Type: t, ContentInput: sportello.ContentInput{
			Title: title, Summary: summary, Body: body, Topics: topics}}
	}
	event := item(sportello.ContentEvent, "Open day del Municipio", "Visite guidate al palazzo comunale e alla sala consiliare.",
		"Visite guidate ogni ora, dalle 10 alle 17. Ingresso libero.", "eventi", "cultura")
	event.EventStart, event.EventEnd, event.EventPlace = day(20, 10), day(20, 17), "Palazzo comunale, Piazza del Municipio 1"
	notice := item(sportello.ContentNotice, "Chiusura dell'Anagrafe per aggiornamento informatico",
		"Gli sportelli dell'Anagrafe restano chiusi per un giorno.",
		"Per l'aggiornamento del sistema informatico gli sportelli dell'Anagrafe restano chiusi. "+
			"Le carte d'identità già prenotate saranno rilasciate il giorno successivo.", "anagrafe")
	notice.UnpublishAt = day(30, 0)
	return []demoContent{
		{page("/vivere-il-comune", "Vivere il Comune", "Servizi, uffici e informazioni per chi vive in città.",
			"Tutto quello che serve per vivere in città: uffici, servizi, orari e contatti."), true},
		{page("/vivere-il-comune/urp", "URP - Ufficio Relazioni con il Pubblico",
			"Informazioni, segnalazioni, reclami e accesso agli atti.", urpBody), true},
		{page("/vivere-il-comune/prenotazioni", "Prenotare un appuntamento",
			"Come prenotare un appuntamento agli sportelli comunali.",
			"Scegli l'ufficio e l'orario dall'app o dal portale: riceverai un codice di conferma."), true},
		{page("/amministrazione", "Amministrazione", "Gli organi e gli uffici del Comune.",
			"Il Sindaco, la Giunta, il Consiglio comunale e gli uffici."), true},
		{item(sportello.ContentNews, "Nuovo calendario della raccolta differenziata",
			"Dal 1° del mese prossimo cambiano i giorni della raccolta della carta e del vetro.",
			"Il **nuovo calendario** è disponibile all'URP e in biblioteca; i pieghevoli arrivano in ogni casa.\n\n"+
				"| Rifiuto | Giorno |\n|---|---|\n| Carta | Martedì |\n| Vetro | Venerdì |", "rifiuti", "ambiente"), true},
		{item(sportello.ContentNews, "L'URP apre anche il giovedì pomeriggio",
			"Più ore di apertura per chi lavora.", "Da questa settimana l'URP riceve anche il giovedì dalle 16 alle 18.", "urp"), true},
		{item(sportello.ContentNews, "Carta d'identità elettronica: aperture straordinarie",
			"Due sabati di apertura straordinaria dell'Anagrafe.", "Prenota dall'app il tuo appuntamento.", "anagrafe"), false},
		{notice, true},
		{item(sportello.ContentNotice, "Avviso pubblico: contributi per l'affitto",
			"Domande entro la fine del mese.", "Possono presentare domanda i nuclei familiari residenti con ISEE fino a 15.000 euro.", "sociale"), true},
		{item(sportello.ContentBrochure, "Pieghevole: la raccolta differenziata in 5 passi",
			"Il testo del pieghevole distribuito alle famiglie.",
			"1. Separa carta, vetro, plastica e organico.\n2. Controlla il calendario.\n3. Esponi i contenitori la sera prima.\n"+
				"4. Porta gli ingombranti al centro di raccolta.\n5. Chiedi all'URP se hai dubbi.", "rifiuti"), true},
		{event, true},
	}
}

// seedContent writes the demo website and one campaign, once: it does nothing if the tenant
// has content already. The demo editor writes it and the demo manager approves and publishes
// it, through the service, so the demo shows the workflow's revisions and search.
func seedContent(ctx context.Context, d *DB) error {
	var n int
	if err := d.GetContext(ctx, &n, `SELECT count(*) FROM contents WHERE tenant_id = $1`, sportello.DefaultTenantID); err != nil {
		return fmt.Errorf("seed content: %w", err)
	}
	if n > 0 {
		return nil
	}
	var urp string
	if err := d.GetContext(ctx, &urp, `SELECT id FROM offices WHERE tenant_id = $1 AND front_desk`, sportello.DefaultTenantID); err != nil {
		return fmt.Errorf("seed content: find the URP: %w", err)
	}
	s := NewContentService(d)
	editor, manager := sportello.WithUser(ctx, &DemoEditor), sportello.WithUser(ctx, &DemoManager)
	ids := map[sportello.ContentType][]string{}
	for _, dc := range demoContents(d.now(), urp) {
		c, err := s.CreateContent(editor, dc.in)
		if err != nil {
			return fmt.Errorf("seed content %q: %w", dc.in.Title, err)
		}
		ids[c.Type] = append(ids[c.Type], c.ID)
		if !dc.publish {
			continue
		}
		if _, err := s.SubmitContentForReview(editor, c.ID); err != nil {
			return fmt.Errorf("seed content: %w", err)
		}
		if _, err := s.ApproveContent(manager, c.ID); err != nil {
			return fmt.Errorf("seed content: %w", err)
		}
		if _, err := s.PublishContent(manager, c.ID, nil); err != nil {
			return fmt.Errorf("seed content: %w", err)
		}
	}
	return seedCampaign(ctx, d, editor, ids[sportello.ContentBrochure][0], ids[sportello.ContentNews][0])
}

// seedCampaign plans the demo campaign for the new waste collection calendar, with its log.
func seedCampaign(ctx context.Context, d *DB, editor context.Context, brochure, news string) error {
	today := sportello.DateOf(d.now())
	on := func(days int) sportello.Date {
		return sportello.DateOf(time.Date(today.Year, today.Month, today.Day+days, 12, 0, 0, 0, sportello.Rome))
	}
	s := NewCampaignService(d)
	camp, err := s.CreateCampaign(editor, sportello.CampaignInput{Name: "Differenziata: il nuovo calendario",
		Goal: "Far conoscere a tutte le famiglie i nuovi giorni di raccolta", Audience: sportello.AudienceExternal,
		TargetGroups: []string{"Famiglie", "Scuole", "Esercizi commerciali"},
		Channels: []sportello.CampaignChannel{sportello.CampaignWebsite, sportello.CampaignLeaflets, sportello.CampaignPosters,
			sportello.CampaignAppMessage},
		StartsOn: on(-7), EndsOn: on(60), ContentIDs: []string{brochure, news}, Status: sportello.CampaignRunning,
		ResultLinks: []sportello.Link{{URL: "https://questionari.comune.example.it/differenziata", Description: "Questionario di gradimento"}}})
	if err != nil {
		return fmt.Errorf("seed campaign: %w", err)
	}
	for _, in := range []sportello.DistributionInput{
		{Material: "Pieghevole", ContentID: brochure, Channel: sportello.CampaignLeaflets, Place: "Biblioteca civica", Copies: 300, DeliveredOn: on(-6)},
		{Material: "Pieghevole", ContentID: brochure, Channel: sportello.CampaignLeaflets, Place: "URP, Piazza del Municipio 1", Copies: 500, DeliveredOn: on(-6)},
		{Material: "Manifesto 70x100", Channel: sportello.CampaignPosters, Place: "Scuola primaria Dante Alighieri", Copies: 12, DeliveredOn: on(-5), DeliveredBy: "Servizio affissioni"},
		{Material: "Manifesto 70x100", Channel: sportello.CampaignPosters, Place: "Mercato coperto", Copies: 6, DeliveredOn: on(-4), DeliveredBy: "Servizio affissioni"},
	} {
		if _, err := s.RecordDistribution(editor, camp.ID, in); err != nil {
			return fmt.Errorf("seed distribution: %w", err)
		}
	}
	return nil
}
