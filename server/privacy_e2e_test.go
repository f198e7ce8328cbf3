package main

import (
	"encoding/json"
	"testing"

	sportello "github.com/sportello/sportello"
)

func TestCitizenExportsAndErasesTheirDataAndAdminsReadTheAudit(t *testing.T) {
	s := startServer(t)
	citizen := s.token(sportello.RoleCitizen, "spid-export")
	operator := s.token(sportello.RoleOperator, "op-1")
	admin := s.token(sportello.RoleAdmin, "admin-1")
	sub := s.submit(citizen, ticketInput("INFORMATION", "Rinnovo carta d'identità"))
	s.ok(operator, `{ tickets { edges { node { citizen { fullName } } } } }`, nil, nil)

	var exported struct {
		ExportMyData struct{ Format, Data string }
	}
	s.ok(citizen, `{ exportMyData { generatedAt format data } }`, nil, &exported)
	var doc struct {
		Tickets []struct{ ProtocolNumber string }
	}
	if err := json.Unmarshal([]byte(exported.ExportMyData.Data), &doc); err != nil || exported.ExportMyData.Format != "application/json" ||
		len(doc.Tickets) != 1 || doc.Tickets[0].ProtocolNumber != sub.SubmitTicket.ProtocolNumber {
		t.Fatalf("export: %+v, %v", exported, err)
	}

	const audit = `query($f: AuditFilter) { auditLog(filter: $f, first: 10) {
		edges { cursor node { actorSubject actorRoles action what citizenId clientAddr requestId at } } pageInfo { hasNextPage } } }`
	s.fails(operator, audit, nil, sportello.CodeForbidden, "")
	s.fails(citizen, audit, nil, sportello.CodeForbidden, "")
	var log struct {
		AuditLog struct {
			Edges []struct {
				Node struct {
					ActorSubject, Action, What, ClientAddr, RequestID string
					CitizenID                                         *string
				}
			}
		}
	}
	s.ok(admin, audit, map[string]any{"f": map[string]any{"actorSubject": "op-1"}}, &log)
	if len(log.AuditLog.Edges) == 0 {
		t.Fatal("the operator's read is not in the audit log")
	}
	for _, e := range log.AuditLog.Edges {
		n := e.Node
		if n.ActorSubject != "op-1" || n.Action != "READ" || n.ClientAddr != "127.0.0.1" || n.RequestID == "" || n.CitizenID == nil {
			t.Errorf("entry %+v", n)
		}
	}

	var erased struct {
		RequestErasure struct {
			Outcome     string
			KeptRecords []string
		}
	}
	s.ok(citizen, `mutation { requestErasure { outcome at keptRecords cancelledAppointments } }`, nil, &erased)
	if erased.RequestErasure.Outcome != "RESTRICTED" || len(erased.RequestErasure.KeptRecords) != 1 ||
		erased.RequestErasure.KeptRecords[0] != sub.SubmitTicket.ProtocolNumber {
		t.Fatalf("erasure: %+v", erased)
	}
	// The token of the session that asked for the erasure opens nothing more.
	s.fails(citizen, `{ me { id } }`, nil, sportello.CodeUnauthenticated, "")
	// The kept record is still the office's to handle.
	s.ok(operator, `query($id: ID!) { ticket(id: $id) { protocolNumber } }`, map[string]any{"id": sub.SubmitTicket.Ticket.ID}, nil)
	s.fails("", `mutation { requestErasure { outcome } }`, nil, sportello.CodeUnauthenticated, "")
}
