package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	sportello "github.com/sportello/sportello"
)

var (
	buildOnce sync.Once
	binary    string
	buildErr  error
)

// serverBinary builds the server once per test run, to run it as separate processes.
func serverBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sportello-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binary = filepath.Join(dir, "sportello")
		out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binary
}

// instance is a server process.
type instance struct {
	URL  string
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan error
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startInstance runs `server serve` over the database and Redis, on a free port.
func startInstance(t *testing.T, databaseURL, redisURL string) *instance {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(serverBinary(t), "serve")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+databaseURL, "REDIS_URL="+redisURL,
		fmt.Sprintf("LISTEN_ADDR=127.0.0.1:%d", port), "AUTH_DEV_SECRET="+testSecret, "APP_ENV=development")
	in := &instance{URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, out: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stdout, cmd.Stderr = in.out, in.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { in.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-in.done
		if t.Failed() {
			t.Logf("instance %s output:\n%s", in.URL, in.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(in.URL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return in
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance did not become ready:\n%s", in.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// twoInstances starts two server processes sharing a fresh database and Redis, and returns a
// client for each (for filing over HTTP and minting tokens).
func twoInstances(t *testing.T) (*testServer, *instance, *instance) {
	t.Helper()
	s := startServer(t) // a migrated database, and a client whose tokens the instances accept
	a := startInstance(t, s.dbURL, os.Getenv("REDIS_URL"))
	b := startInstance(t, s.dbURL, os.Getenv("REDIS_URL"))
	return s, a, b
}

func (s *testServer) at(url string) *testServer {
	c := *s
	c.URL = url
	return &c
}

func TestSubscriptionOnOneInstanceSeesTicketsFiledOnAnother(t *testing.T) {
	s, a, b := twoInstances(t)
	operator := s.token(sportello.RoleOperator, "op")
	citizen := s.token(sportello.RoleCitizen, "c")
	ws := dialWS(t, a.URL, operator)
	ws.subscribe("1", `subscription { ticketEvents { `+eventFields+` } }`, nil)
	time.Sleep(200 * time.Millisecond) // let the subscription register before filing

	filed := s.at(b.URL).submit(citizen, ticketInput("REPORT", "Semaforo guasto"))
	ev := ws.nextEvent("ticketEvents", 10*time.Second)
	if ev.Type != "CREATED" || ev.Ticket.ProtocolNumber != filed.SubmitTicket.ProtocolNumber || ev.Cursor == "" {
		t.Fatalf("event %+v, want CREATED of %s", ev, filed.SubmitTicket.ProtocolNumber)
	}
}

func TestClientsResumeOnAnotherInstanceWhenOneDies(t *testing.T) {
	s, a, b := twoInstances(t)
	operator := s.token(sportello.RoleOperator, "op")
	citizen := s.token(sportello.RoleCitizen, "c")
	const sub = `subscription($after: String) { ticketEvents(after: $after) { ` + eventFields + ` } }`
	ws := dialWS(t, a.URL, operator)
	ws.subscribe("1", sub, nil)
	time.Sleep(200 * time.Millisecond)
	first := s.at(b.URL).submit(citizen, ticketInput("REPORT", "Primo"))
	got := ws.nextEvent("ticketEvents", 10*time.Second)
	if got.Ticket.ID != first.SubmitTicket.Ticket.ID {
		t.Fatalf("first event %+v", got)
	}

	// Instance A dies without a goodbye; tickets keep arriving through B meanwhile.
	a.cmd.Process.Kill()
	var missed []string
	for i := range 5 {
		missed = append(missed, s.at(b.URL).submit(citizen, ticketInput("REPORT", fmt.Sprintf("Mentre A è giù %d", i))).SubmitTicket.Ticket.ID)
	}
	ws = dialWS(t, b.URL, operator)
	ws.subscribe("1", sub, map[string]any{"after": got.Cursor})
	for i, want := range missed {
		ev := ws.nextEvent("ticketEvents", 10*time.Second)
		if ev.Ticket.ID != want || ev.Type != "CREATED" {
			t.Fatalf("resumed event %d = %+v, want the CREATED of %s", i, ev, want)
		}
	}
	// Nothing is delivered twice: the next event is a new one.
	last := s.at(b.URL).submit(citizen, ticketInput("REPORT", "Dopo"))
	if ev := ws.nextEvent("ticketEvents", 10*time.Second); ev.Ticket.ID != last.SubmitTicket.Ticket.ID {
		t.Fatalf("after the replay: %+v", ev)
	}
}

func TestSIGTERMEndsSubscriptionsCleanlyAndExits(t *testing.T) {
	s, a, _ := twoInstances(t)
	operator := s.token(sportello.RoleOperator, "op")
	ws := dialWS(t, a.URL, operator)
	ws.subscribe("1", `subscription { ticketEvents { `+eventFields+` } }`, nil)
	time.Sleep(200 * time.Millisecond)
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	code, reason := ws.closeStatus(15 * time.Second)
	if code != websocket.StatusGoingAway {
		t.Fatalf("close %d %q, want 1001 going away", code, reason)
	}
	select {
	case err := <-a.done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, a.out.String())
		}
		a.done <- nil // for the cleanup
	case <-time.After(15 * time.Second):
		t.Fatalf("the instance did not exit within 15 s of SIGTERM:\n%s", a.out.String())
	}
	// A new connection is refused: the instance stopped accepting.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if _, _, err := websocket.Dial(ctx, "ws"+a.URL[len("http"):]+"/graphql", nil); err == nil {
		t.Fatal("a stopped instance accepted a connection")
	}
}

func TestEventsFiledWhileRedisIsDownArriveInOrder(t *testing.T) {
	redisURL := startPrivateRedis(t)
	s := startServer(t)
	a := startInstance(t, s.dbURL, redisURL.url)
	b := startInstance(t, s.dbURL, redisURL.url)
	operator := s.token(sportello.RoleOperator, "op")
	citizen := s.token(sportello.RoleCitizen, "c")
	ws := dialWS(t, a.URL, operator)
	ws.subscribe("1", `subscription { ticketEvents { `+eventFields+` } }`, nil)
	time.Sleep(200 * time.Millisecond)

	redisURL.stop(t)
	var filed []string
	for i := range 5 {
		// Filing keeps working: PostgreSQL is the truth, Redis only the fast path.
		filed = append(filed, s.at(b.URL).submit(citizen, ticketInput("REPORT", fmt.Sprintf("Senza Redis %d", i))).SubmitTicket.Ticket.ID)
	}
	redisURL.start(t)
	filed = append(filed, s.at(b.URL).submit(citizen, ticketInput("REPORT", "Redis è tornato")).SubmitTicket.Ticket.ID)
	for i, want := range filed {
		ev := ws.nextEvent("ticketEvents", 15*time.Second)
		if ev.Ticket.ID != want {
			t.Fatalf("event %d is of ticket %s, want %s", i, ev.Ticket.ID, want)
		}
	}
}

// privateRedis is a redis-server of one test's own, which it can stop and start.
type privateRedis struct {
	url  string
	port int
	cmd  *exec.Cmd
}

func startPrivateRedis(t *testing.T) *privateRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Fatal("redis-server is not installed: run the tests with `make test`, which installs it")
	}
	r := &privateRedis{port: freePort(t)}
	r.url = fmt.Sprintf("redis://127.0.0.1:%d/0", r.port)
	r.start(t)
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *privateRedis) start(t *testing.T) {
	t.Helper()
	r.cmd = exec.Command("redis-server", "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no")
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (r *privateRedis) stop(t *testing.T) {
	t.Helper()
	if r.cmd == nil {
		return
	}
	r.cmd.Process.Kill()
	r.cmd.Wait()
	r.cmd = nil
}
