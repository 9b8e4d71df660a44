package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfkit/nfkit/chrow"
)

// fakeCH is an HTTP server that answers like ClickHouse.
type fakeCH struct {
	mu       sync.Mutex
	status   int
	answer   string
	requests []*http.Request
	bodies   [][]byte
}

func (f *fakeCH) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.requests = append(f.requests, r)
	f.bodies = append(f.bodies, b)
	status, answer := f.status, f.answer
	f.mu.Unlock()
	if status == 0 {
		status = 200
	}
	w.WriteHeader(status)
	io.WriteString(w, answer)
}

func newFakeCH(t *testing.T) (*fakeCH, *httptest.Server) {
	f := &fakeCH{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func TestClickHouseInsert(t *testing.T) {
	f, srv := newFakeCH(t)
	ch, err := NewClickHouse(ClickHouseConfig{URLs: []string{"http://bob:hunter2@" + srv.Listener.Addr().String() + "/?database=netflow&insert_distributed_sync=1"},
		Table: chrow.Table{Name: "flows"}, Compress: Gzip})
	if err != nil {
		t.Fatal(err)
	}
	fr, _ := newFramer(Gzip)
	batch := append([]byte(nil), fr.Frame([]byte("rows1"))...)
	batch = append(batch, fr.Frame([]byte("rows2"))...)
	if err := ch.Deliver(context.Background(), batch, 2); err != nil {
		t.Fatal(err)
	}
	r := f.requests[0]
	q := r.URL.Query()
	if got := q.Get("query"); got != "INSERT INTO `netflow`.`flows` ("+chrow.ColumnList()+") FORMAT RowBinary" {
		t.Errorf("query %q", got)
	}
	if q.Get("insert_distributed_sync") != "1" || q.Has("database") || q.Has("password") || strings.Contains(r.URL.String(), "hunter2") {
		t.Errorf("URL parameters %v", q)
	}
	if r.Header.Get("X-ClickHouse-User") != "bob" || r.Header.Get("X-ClickHouse-Key") != "hunter2" || r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("headers %v", r.Header)
	}
	// The gzip members read as one stream, as ClickHouse reads them.
	zr, _ := gzip.NewReader(bytes.NewReader(f.bodies[0]))
	if b, err := io.ReadAll(zr); err != nil || string(b) != "rows1rows2" {
		t.Errorf("body %q %v", b, err)
	}
}

// A password file overrides the URL's; the password appears in no error.
func TestClickHousePassword(t *testing.T) {
	f, srv := newFakeCH(t)
	f.status, f.answer = 516, "Code: 516, e.displayText() = DB::Exception: default: Authentication failed"
	ch, err := NewClickHouse(ClickHouseConfig{URLs: []string{srv.URL + "/?user=alice&password=old"}, Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	err = ch.Deliver(context.Background(), []byte("x"), 1)
	if err == nil || errors.Is(err, ErrRejected) || strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "old") {
		t.Fatalf("error %v (authentication is retried, never rejected, never shown)", err)
	}
	if r := f.requests[0]; r.Header.Get("X-ClickHouse-User") != "alice" || r.Header.Get("X-ClickHouse-Key") != "s3cret" {
		t.Errorf("headers %v", r.Header)
	}
	if _, err := NewClickHouse(ClickHouseConfig{URLs: []string{"http://u:p%zz@host/"}}); err == nil || strings.Contains(err.Error(), "p%zz") {
		t.Errorf("bad URL: %v", err)
	}
}

// Data the server cannot parse is rejected (not retried); anything else
// (server errors, missing table, unreachable) is retried.
func TestClickHouseErrors(t *testing.T) {
	f, srv := newFakeCH(t)
	ch, _ := NewClickHouse(ClickHouseConfig{URLs: []string{srv.URL}})
	for _, c := range []struct {
		status int
		answer string
		reject bool
	}{
		{500, "Code: 27, e.displayText() = DB::Exception: Cannot parse input: expected \\t before", true},
		{500, "Code: 33, e.displayText() = DB::Exception: Cannot read all data", true},
		{500, "Code: 354, e.displayText() = DB::Exception: inflate failed: buffer error", true},
		{404, "Code: 60, e.displayText() = DB::Exception: Table netflow.flows doesn't exist.", false},
		{500, "Code: 241, e.displayText() = DB::Exception: Memory limit (total) exceeded", false},
		{503, "overloaded", false},
	} {
		f.status, f.answer = c.status, c.answer
		err := ch.Deliver(context.Background(), []byte("x"), 1)
		if err == nil || errors.Is(err, ErrRejected) != c.reject {
			t.Errorf("%d %q: %v, rejected %v", c.status, c.answer, err, errors.Is(err, ErrRejected))
		}
	}
}

// Inserts move to the next node when one cannot be reached.
func TestClickHouseFailover(t *testing.T) {
	f, srv := newFakeCH(t)
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	ch, _ := NewClickHouse(ClickHouseConfig{URLs: []string{dead.URL, srv.URL}, Timeout: 5 * time.Second})
	if err := ch.Deliver(context.Background(), []byte("x"), 1); err == nil {
		t.Fatal("a dead node took the insert")
	}
	if err := ch.Deliver(context.Background(), []byte("x"), 1); err != nil || len(f.requests) != 1 {
		t.Fatalf("second insert: %v, %d requests", err, len(f.requests))
	}
}

func TestClickHouseConfigErrors(t *testing.T) {
	for _, urls := range [][]string{nil, {"ftp://x/"}, {"127.0.0.1:8123"}, {"http://a/?database=x", "http://b/?database=y"}} {
		if _, err := NewClickHouse(ClickHouseConfig{URLs: urls}); err == nil {
			t.Errorf("%q accepted", urls)
		}
	}
}

// The retention drops the partitions older than the cutoff, and only
// those, on servers without TTL.
func TestClickHouseRetain(t *testing.T) {
	var mu sync.Mutex
	var stmts []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		q := string(b)
		mu.Lock()
		stmts = append(stmts, q)
		mu.Unlock()
		switch {
		case strings.HasPrefix(q, "SELECT version()"):
			io.WriteString(w, "18.16.1\n")
		case strings.HasPrefix(q, "SELECT DISTINCT partition"):
			if !strings.Contains(q, "partition < '20261102'") || !strings.Contains(q, "table = 'flows_local'") {
				t.Errorf("partition query %q", q)
			}
			io.WriteString(w, "20261030\n20261101\n")
		}
	}))
	defer srv.Close()
	ch, _ := NewClickHouse(ClickHouseConfig{URLs: []string{srv.URL + "/?database=nf"}, Table: chrow.Table{Cluster: "c", Retention: 30 * 24 * time.Hour}})
	n, err := ch.Retain(context.Background(), time.Date(2026, 12, 2, 6, 0, 0, 0, time.UTC), discardLog())
	if err != nil || n != 2 {
		t.Fatalf("dropped %d: %v", n, err)
	}
	if s := strings.Join(stmts, "\n"); !strings.Contains(s, "ALTER TABLE `nf`.`flows_local` DROP PARTITION 20261030") || !strings.Contains(s, "DROP PARTITION 20261101") {
		t.Errorf("statements:\n%s", s)
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

// With a cluster and every node's URL, batches go into the nodes' local
// tables in turn, skipping a node that could not be reached.
func TestClickHouseSpread(t *testing.T) {
	a, srvA := newFakeCH(t)
	b, srvB := newFakeCH(t)
	ch, _ := NewClickHouse(ClickHouseConfig{URLs: []string{srvA.URL, srvB.URL}, Table: chrow.Table{Name: "flows", Cluster: "c"}})
	for range 4 {
		if err := ch.Deliver(context.Background(), []byte("x"), 1); err != nil {
			t.Fatal(err)
		}
	}
	if len(a.requests) != 2 || len(b.requests) != 2 {
		t.Fatalf("%d and %d inserts, want 2 and 2", len(a.requests), len(b.requests))
	}
	if q := a.requests[0].URL.Query().Get("query"); !strings.HasPrefix(q, "INSERT INTO `flows_local` (") {
		t.Errorf("query %q", q)
	}
	srvA.Close()
	errs := 0
	for range 6 {
		if ch.Deliver(context.Background(), []byte("x"), 1) != nil {
			errs++
		}
	}
	if errs != 1 || len(b.requests) != 2+5 {
		t.Errorf("with a node down: %d errors, %d inserts on the other", errs, len(b.requests)-2)
	}
}
