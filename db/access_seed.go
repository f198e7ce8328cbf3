package db

import (
	"context"
	"fmt"

	sportello "github.com/sportello/sportello"
)

// seedAccessRequests files two demo requests for access to records: a documentary access the
// operator has decided after notifying the counter-interested party, and a civic access
// registered from a PEC that is still pending. Both appear in the register of accesses.
func seedAccessRequests(ctx context.Context, d *DB, citizenCtx, operatorCtx context.Context, deskCitizenID string) error {
	tickets := NewTicketService(d)
	access := NewRecordsAccessService(d)
	building, err := tickets.SubmitTicket(citizenCtx, sportello.SubmitTicketInput{Kind: sportello.KindRecordsAccess,
		Subject: "Accesso agli atti del cantiere di via Verdi 8",
		Body:    "Chiedo di prendere visione e di estrarre copia del permesso di costruire del cantiere confinante con la mia abitazione.",
		RecordsAccess: &sportello.RecordsAccessInput{Type: sportello.AccessDocumentale,
			Interest:       "Sono proprietario dell'immobile confinante e devo verificare le distanze per un eventuale ricorso.",
			Documents:      "Permesso di costruire ed elaborati progettuali del cantiere di via Verdi 8",
			ActReference:   "Permesso di costruire n. 45/2025",
			CounterParties: []string{"Costruzioni Alfa S.r.l."}}})
	if err != nil {
		return fmt.Errorf("seed access request: %w", err)
	}
	if _, err := access.NotifyCounterParties(operatorCtx, building.Ticket.ID, nil); err != nil {
		return fmt.Errorf("seed access request: %w", err)
	}
	today := sportello.DateOf(d.Now())
	from, until := today.AddDays(1), today.AddDays(21)
	if _, err := access.DecideRecordsAccess(operatorCtx, sportello.DecideAccessInput{TicketID: building.Ticket.ID,
		Outcome: sportello.AccessGranted, ViewingFrom: &from, ViewingUntil: &until,
		PublicSubject: "Permesso di costruire di un intervento edilizio privato"}); err != nil {
		return fmt.Errorf("seed access request: %w", err)
	}
	if _, err := tickets.RegisterTicket(operatorCtx, sportello.RegisterTicketInput{Kind: sportello.KindRecordsAccess,
		Channel: sportello.ChannelPEC, CitizenID: deskCitizenID, Subject: "Accesso civico ai contratti di manutenzione del verde",
		Body: "Richiesta pervenuta via PEC.",
		RecordsAccess: &sportello.RecordsAccessInput{Type: sportello.AccessCivicoGeneralizzato,
			Documents: "Contratti di manutenzione del verde pubblico stipulati nel 2025"}}); err != nil {
		return fmt.Errorf("seed access request: %w", err)
	}
	return nil
}
