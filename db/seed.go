package db

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	sportello "github.com/sportello/sportello"
)

// Demo identities, for the tokens `make run` prints.
const (
	DemoCitizenSubject  = "demo-citizen"
	DemoOperatorSubject = "demo-operator"
	DemoManagerSubject  = "demo-manager"
)

// DemoCitizen is the demo citizen as their identity provider would describe them.
var DemoCitizen = sportello.User{
	TenantID: sportello.DefaultTenantID, Subject: DemoCitizenSubject, Roles: []sportello.Role{sportello.RoleCitizen},
	GivenName: "Mario", FamilyName: "Rossi", FiscalCode: "RSSMRA85T10A562S", Email: "mario.rossi@example.it",
}

// DemoOperator is the demo desk operator of the URP.
var DemoOperator = sportello.User{
	TenantID: sportello.DefaultTenantID, Subject: DemoOperatorSubject, Roles: []sportello.Role{sportello.RoleOperator},
	GivenName: "Anna", FamilyName: "Verdi", Email: "anna.verdi@comune.example.it",
}

// DemoManager is the demo manager of the office.
var DemoManager = sportello.User{
	TenantID: sportello.DefaultTenantID, Subject: DemoManagerSubject, Roles: []sportello.Role{sportello.RoleManager},
	GivenName: "Paolo", FamilyName: "Neri", Email: "paolo.neri@comune.example.it",
}

type demoOffice struct {
	name, description, email, phone, address, head string
	hours                                          [][3]any // weekday, opens, closes
}

// URP hours: Monday to Friday 9-13, Tuesday and Thursday also 16-18.
var urpHours = [][3]any{
	{1, "09:00", "13:00"}, {2, "09:00", "13:00"}, {2, "16:00", "18:00"}, {3, "09:00", "13:00"},
	{4, "09:00", "13:00"}, {4, "16:00", "18:00"}, {5, "09:00", "13:00"},
}

var demoOffices = []demoOffice{
	{"URP - Ufficio Relazioni con il Pubblico", "Informa e orienta i cittadini, riceve segnalazioni, reclami e richieste di accesso.",
		"urp@comune.example.it", "+39 0612345600", "Piazza del Municipio 1", "Dott.ssa Laura Bruni", urpHours},
	{"Anagrafe e Stato Civile", "Residenza, certificati, carta d'identità elettronica, stato civile.",
		"anagrafe@comune.example.it", "+39 0612345610", "Piazza del Municipio 1", "Dott. Marco Gialli",
		[][3]any{{1, "08:30", "12:30"}, {3, "08:30", "12:30"}, {3, "15:00", "17:00"}, {5, "08:30", "12:30"}}},
	{"Tributi", "IMU, TARI, canone unico patrimoniale.", "tributi@comune.example.it", "+39 0612345620",
		"Via Roma 10", "Dott.ssa Sara Blu", [][3]any{{2, "09:00", "12:00"}, {4, "09:00", "12:00"}}},
	{"Lavori Pubblici e Manutenzioni", "Strade, illuminazione pubblica, verde, edifici comunali.",
		"lavoripubblici@comune.example.it", "+39 0612345630", "Via Roma 12", "Ing. Luca Viola", [][3]any{{3, "10:00", "12:00"}}},
	{"Polizia Locale", "Viabilità, sicurezza urbana, permessi ZTL.", "polizialocale@comune.example.it", "+39 0612345640",
		"Via Garibaldi 3", "Comandante Elena Rosa", [][3]any{{1, "09:00", "12:00"}, {2, "09:00", "12:00"}, {3, "09:00", "12:00"}, {4, "09:00", "12:00"}, {5, "09:00", "12:00"}}},
	{"Servizi Sociali", "Sostegno a famiglie, anziani, persone con disabilità.", "sociali@comune.example.it", "+39 0612345650",
		"Via Mazzini 7", "Dott.ssa Chiara Grigi", [][3]any{{2, "09:00", "13:00"}, {4, "14:30", "17:30"}}},
}

// SeedDemo loads a demo municipality into the default tenant: offices with their hours, staff,
// citizens and tickets in several states, the catalogue of services, procedures and acts, and
// the URP's desk appointments, the youth desk (Informagiovani) with its opportunities, the
// website's content with a campaign, routing rules and reply templates.
// It does nothing if the tenant already has offices (the catalogue: services; the youth desk:
// opportunities), so it is safe to run at every start.
func SeedDemo(ctx context.Context, d *DB) error {
	// The seed is a tool, not a request: it writes the default tenant's data with whatever
	// users it acts as.
	ctx = AllTenants(ctx)
	var n int
	if err := d.GetContext(ctx, &n, `SELECT count(*) FROM offices WHERE tenant_id = $1`, sportello.DefaultTenantID); err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	if n > 0 {
		if err := seedCatalogue(ctx, d); err != nil {
			return err
		}
		if err := seedYouth(ctx, d); err != nil {
			return err
		}
		return seedContent(ctx, d)
	}
	officeIDs := map[string]string{}
	err := d.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, o := range demoOffices {
			var id string
			if err := tx.GetContext(ctx, &id, `INSERT INTO offices (tenant_id, name, description, email, phone, address, head)
				VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
				sportello.DefaultTenantID, o.name, o.description, o.email, o.phone, o.address, o.head); err != nil {
				return fmt.Errorf("seed office: %w", err)
			}
			officeIDs[o.name] = id
			for _, h := range o.hours {
				if _, err := tx.ExecContext(ctx, `INSERT INTO office_hours (office_id, weekday, opens, closes) VALUES ($1, $2, $3, $4)`,
					id, h[0], h[1], h[2]); err != nil {
					return fmt.Errorf("seed hours: %w", err)
				}
			}
		}
		urp := officeIDs[demoOffices[0].name]
		if err := seedFrontDesk(ctx, tx, urp, sportello.ProtocolYear(d.now())); err != nil {
			return err
		}
		for _, s := range []sportello.User{DemoOperator, DemoManager} {
			if _, err := tx.ExecContext(ctx, `INSERT INTO staff (tenant_id, subject, name, email, office_id) VALUES ($1, $2, $3, $4, $5)`,
				sportello.DefaultTenantID, s.Subject, s.DisplayName(), s.Email, urp); err != nil {
				return fmt.Errorf("seed staff: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// The past year comes first, so that its protocol numbers precede today's tickets.
	if err := seedHistory(ctx, d, officeIDs); err != nil {
		return err
	}
	if err := seedTickets(ctx, d, officeIDs); err != nil {
		return err
	}
	if err := seedTriage(ctx, d, officeIDs); err != nil {
		return err
	}
	if err := seedCatalogue(ctx, d); err != nil {
		return err
	}
	if err := seedAppointments(ctx, d, officeIDs[demoOffices[0].name]); err != nil {
		return err
	}
	if err := seedYouth(ctx, d); err != nil {
		return err
	}
	return seedContent(ctx, d)
}

// seedFrontDesk makes the URP the front desk, whose clock runs the SLA of tickets without an
// office, and closes every office on the patron saint's day (24 June, San Giovanni Battista) of
// this year and the next.
func seedFrontDesk(ctx context.Context, tx *sqlx.Tx, urp string, year int) error {
	if _, err := tx.ExecContext(ctx, `UPDATE offices SET front_desk = true WHERE id = $1`, urp); err != nil {
		return fmt.Errorf("seed front desk: %w", err)
	}
	for _, y := range []int{year, year + 1} {
		day := fmt.Sprintf("%04d-06-24", y)
		if _, err := tx.ExecContext(ctx, `INSERT INTO office_closures (tenant_id, from_date, to_date, reason)
			VALUES ($1, $2::date, $2::date, 'Festa del santo patrono, San Giovanni Battista')`, sportello.DefaultTenantID, day); err != nil {
			return fmt.Errorf("seed closure: %w", err)
		}
	}
	return nil
}

// seedTickets files the demo tickets through the services, so they carry real protocol
// numbers, deadlines and histories.
func seedTickets(ctx context.Context, d *DB, officeIDs map[string]string) error {
	tickets := NewTicketService(d)
	citizens := NewCitizenService(d)
	citizenCtx := sportello.WithUser(ctx, &DemoCitizen)
	operatorCtx := sportello.WithUser(ctx, &DemoOperator)
	anonCtx := sportello.WithUser(ctx, &sportello.User{TenantID: sportello.DefaultTenantID})

	giulia, err := citizens.CreateCitizen(operatorCtx, sportello.CitizenInput{GivenName: "Giulia", FamilyName: "Bianchi",
		FiscalCode: "BNCGLI80A41H501C", Phone: "+39 333 1234567"})
	if err != nil {
		return fmt.Errorf("seed citizen: %w", err)
	}
	mine, err := tickets.SubmitTicket(citizenCtx, sportello.SubmitTicketInput{Kind: sportello.KindInformation, Channel: sportello.ChannelApp,
		Subject: "Orari per il rinnovo della carta d'identità", Body: "Buongiorno, vorrei sapere quando posso rinnovare la carta d'identità elettronica e quali documenti servono."})
	if err != nil {
		return fmt.Errorf("seed ticket: %w", err)
	}
	if _, err := tickets.SubmitTicket(citizenCtx, sportello.SubmitTicketInput{Kind: sportello.KindComplaint,
		Subject: "Ritardo nella raccolta dei rifiuti", Body: "In via Verdi la raccolta dell'organico non passa da una settimana."}); err != nil {
		return fmt.Errorf("seed ticket: %w", err)
	}
	if _, err := tickets.SubmitTicket(anonCtx, sportello.SubmitTicketInput{Kind: sportello.KindReport,
		Subject: "Lampione spento in via Garibaldi", Body: "Il lampione davanti al civico 21 è spento da giorni.",
		OfficeID: officeIDs["Lavori Pubblici e Manutenzioni"]}); err != nil {
		return fmt.Errorf("seed ticket: %w", err)
	}
	desk, err := tickets.RegisterTicket(operatorCtx, sportello.RegisterTicketInput{Kind: sportello.KindAssistance, Channel: sportello.ChannelCounter,
		Subject: "Aiuto con la domanda di contributo affitto", Body: "La signora chiede assistenza per compilare la domanda di contributo.",
		CitizenID: giulia.ID, OfficeID: officeIDs["Servizi Sociali"]})
	if err != nil {
		return fmt.Errorf("seed ticket: %w", err)
	}
	steps := []func() error{
		func() error {
			_, err := tickets.TransitionTicket(operatorCtx, sportello.TransitionTicketInput{TicketID: mine.Ticket.ID, To: sportello.StatusInProgress})
			return err
		},
		func() error {
			_, err := tickets.AssignTicket(operatorCtx, sportello.AssignTicketInput{TicketID: mine.Ticket.ID,
				OfficeID: officeIDs["Anagrafe e Stato Civile"]})
			return err
		},
		func() error {
			_, err := tickets.PostMessage(operatorCtx, sportello.PostMessageInput{TicketID: mine.Ticket.ID, Internal: true,
				Body: "Verificare con l'Anagrafe le aperture straordinarie di sabato."})
			return err
		},
		func() error {
			_, err := tickets.PostMessage(operatorCtx, sportello.PostMessageInput{TicketID: mine.Ticket.ID,
				Body: "Gentile signor Rossi, può prenotare il rinnovo dall'agenda online; servono una fototessera e la vecchia carta."})
			return err
		},
		func() error {
			_, err := tickets.TransitionTicket(operatorCtx, sportello.TransitionTicketInput{TicketID: desk.Ticket.ID, To: sportello.StatusInProgress})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return fmt.Errorf("seed ticket history: %w", err)
		}
	}
	return seedAccessRequests(ctx, d, citizenCtx, operatorCtx, giulia.ID)
}
