package db

import (
	"context"
	"fmt"

	sportello "github.com/sportello/sportello"
)

// seedTriage adds the demo routing rules and reply templates, through the service so that they
// are validated like a manager's. They come after the demo tickets, which keep the offices the
// demo gives them; tickets filed afterwards are routed.
func seedTriage(ctx context.Context, d *DB, officeIDs map[string]string) error {
	triage := NewTriageService(d)
	managerCtx := sportello.WithUser(ctx, &DemoManager)
	works, taxes, police := officeIDs["Lavori Pubblici e Manutenzioni"], officeIDs["Tributi"], officeIDs["Polizia Locale"]
	// The historic centre of the demo town, around the town hall.
	centre := &sportello.RoutingArea{Polygon: []sportello.Point{{Latitude: 41.8960, Longitude: 12.4920},
		{Latitude: 41.8960, Longitude: 12.5040}, {Latitude: 41.9040, Longitude: 12.5040}, {Latitude: 41.9040, Longitude: 12.4920}}}
	rules := []sportello.RoutingRuleInput{
		{Name: "Illuminazione pubblica", Position: 10, Kinds: []sportello.Kind{sportello.KindReport},
			Keywords: []string{"lampion*", "illuminazione", "luce", "luci"}, OfficeID: works, Priority: sportello.PriorityHigh},
		{Name: "Strade e marciapiedi", Position: 20, Keywords: []string{"buca", "buche", "marciapied*", "asfalto", "tombin*"},
			OfficeID: works},
		{Name: "Tributi", Position: 30, Keywords: []string{"imu", "tari", "tribut*", "bollett*"}, OfficeID: taxes},
		{Name: "Sosta e ZTL nel centro storico", Position: 40, Keywords: []string{"ztl", "sosta", "parcheggi*"}, Area: centre,
			OfficeID: police, Priority: sportello.PriorityHigh},
		{Name: "URP", Default: true, OfficeID: officeIDs[demoOffices[0].name], Strategy: sportello.AssignLeastOpen, MaxOpenPerOperator: 50},
	}
	for _, r := range rules {
		r.Enabled = true
		if _, err := triage.CreateRoutingRule(managerCtx, r); err != nil {
			return fmt.Errorf("seed routing rule %q: %w", r.Name, err)
		}
	}
	templates := []sportello.ReplyTemplateInput{
		{Name: "Presa in carico", Language: sportello.LanguageItalian,
			Body: "Gentile {{nome}},\nla sua richiesta n. {{protocollo}} è stata presa in carico da {{ufficio}}. Le risponderemo entro il {{scadenza}}.\nPuò venirci a trovare negli orari di apertura: {{orari}}.\nCordiali saluti"},
		{Name: "Presa in carico", Language: sportello.LanguageEnglish,
			Body: "Dear {{name}},\nyour request no. {{protocol}} has been taken in charge by {{office}}. We will answer by {{dueDate}}.\nOpening hours: {{hours}}.\nKind regards"},
		{Name: "Segnalazione inoltrata alla squadra", Kind: sportello.KindReport, OfficeID: works, Language: sportello.LanguageItalian,
			Body: "Gentile {{nome}},\ngrazie per la segnalazione n. {{protocollo}}: l'abbiamo inoltrata alla squadra di manutenzione, che interverrà appena possibile."},
		{Name: "Richiesta di integrazione", Language: sportello.LanguageItalian,
			Body: "Gentile {{nome}},\nper completare la pratica n. {{protocollo}} ci servono ulteriori informazioni: …\nPuò rispondere a questo messaggio o passare da {{ufficio}} ({{orari}})."},
	}
	for _, tpl := range templates {
		if _, err := triage.CreateReplyTemplate(managerCtx, tpl); err != nil {
			return fmt.Errorf("seed reply template %q: %w", tpl.Name, err)
		}
	}
	return nil
}
