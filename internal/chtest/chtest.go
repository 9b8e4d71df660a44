// Package chtest runs a ClickHouse test cluster: two clickhouse-server
// processes on free loopback ports, in a temporary directory, as the two
// shards of a cluster named "nfkit", for a test binary's TestMain;
// CreateFlows makes nfcollect's table on both and a Distributed table
// over them.
//
// Without clickhouse-server on the PATH (or in /usr/sbin, /usr/bin) Start
// returns ErrMissing and the tests that need the cluster skip with a loud
// message, unless NFKIT_REQUIRE_CLICKHOUSE=1 (set by make test), in which
// case Start fails.
package chtest

import (
	"bytes"
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/nfkit/nfkit/chrow"
)

// ErrMissing is returned by Start when clickhouse-server is not installed.
var ErrMissing = errors.New("clickhouse-server not installed (apt-get install clickhouse-server; make test installs it)")

// ClusterName is the name of the cluster in the servers' remote_servers.
const ClusterName = "nfkit"

// User and Password are a second user of the servers, with a password.
const (
	User     = "nfkit"
	Password = "s3cret pass"
)

//go:embed testdata/config.xml.tmpl
var configTemplate string

// Server is one clickhouse-server process (a shard).
type Server struct {
	Dir                         string
	HTTPPort, TCPPort, InterSrv int
	mu                          sync.Mutex
	cmd                         *exec.Cmd
	exited                      chan struct{}
}

// URL returns the server's HTTP interface, http://127.0.0.1:port/.
func (s *Server) URL() string { return fmt.Sprintf("http://127.0.0.1:%d/", s.HTTPPort) }

// Cluster is the running test cluster.
type Cluster struct {
	Dir    string
	Shards []*Server
}

// Binary returns the path of clickhouse-server, or "".
func Binary() string {
	if p, err := exec.LookPath("clickhouse-server"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

// Required reports whether the tests must not skip (NFKIT_REQUIRE_CLICKHOUSE=1).
func Required() bool { return os.Getenv("NFKIT_REQUIRE_CLICKHOUSE") == "1" }

// freePorts returns n distinct free TCP ports on 127.0.0.1.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Start starts a cluster of shards servers (2 for the shared tests) in a
// new temporary directory, and waits until every one answers.
func Start(shards int) (*Cluster, error) {
	bin := Binary()
	if bin == "" {
		return nil, ErrMissing
	}
	dir, err := os.MkdirTemp("", "nfkit-clickhouse-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir}
	ok := false
	defer func() {
		if !ok {
			c.Stop()
		}
	}()
	ports, err := freePorts(3 * shards)
	if err != nil {
		return nil, err
	}
	var tcp []int
	for i := range shards {
		s := &Server{Dir: filepath.Join(dir, fmt.Sprintf("s%d", i+1)), HTTPPort: ports[3*i], TCPPort: ports[3*i+1], InterSrv: ports[3*i+2]}
		c.Shards = append(c.Shards, s)
		tcp = append(tcp, s.TCPPort)
	}
	tmpl, err := template.New("config").Parse(configTemplate)
	if err != nil {
		return nil, err
	}
	for _, s := range c.Shards {
		for _, sub := range []string{"log", "data", "tmp"} {
			if err := os.MkdirAll(filepath.Join(s.Dir, sub), 0o755); err != nil {
				return nil, err
			}
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, map[string]any{
			"Dir": s.Dir, "HTTPPort": s.HTTPPort, "TCPPort": s.TCPPort, "InterPort": s.InterSrv,
			"Password": Password, "Cluster": ClusterName, "Shards": tcp,
		}); err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(s.Dir, "config.xml"), buf.Bytes(), 0o644); err != nil {
			return nil, err
		}
	}
	for _, s := range c.Shards {
		if err := s.Start(); err != nil {
			return nil, err
		}
	}
	for _, s := range c.Shards {
		if err := s.Wait(60 * time.Second); err != nil {
			return nil, err
		}
	}
	ok = true
	return c, nil
}

// Start starts the server process (again, after Kill: same data).
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("chtest: server already running")
	}
	log, err := os.OpenFile(filepath.Join(s.Dir, "log", "stdout.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(Binary(), "--config-file="+filepath.Join(s.Dir, "config.xml"))
	cmd.Dir = s.Dir
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("chtest: starting clickhouse-server: %w", err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		log.Close()
		close(exited)
	}()
	s.cmd, s.exited = cmd, exited
	return nil
}

// Wait waits until the server answers /ping, for at most d.
func (s *Server) Wait(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		s.mu.Lock()
		exited := s.exited
		s.mu.Unlock()
		if exited != nil {
			select {
			case <-exited:
				errLog, _ := os.ReadFile(filepath.Join(s.Dir, "log", "err.log"))
				out, _ := os.ReadFile(filepath.Join(s.Dir, "log", "stdout.log"))
				return fmt.Errorf("chtest: clickhouse-server on port %d exited:\n%s\n%s", s.HTTPPort, tail(out), tail(errLog))
			default:
			}
		}
		resp, err := http.Get(s.URL() + "ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("chtest: clickhouse-server on port %d did not answer within %v", s.HTTPPort, d)
}

func tail(b []byte) string {
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// Pid returns the server's process id (0 when stopped).
func (s *Server) Pid() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Kill kills the server (SIGKILL: a crash) and waits for it to exit.
func (s *Server) Kill() {
	s.stop(syscall.SIGKILL)
}

func (s *Server) stop(sig syscall.Signal) {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	syscall.Kill(-cmd.Process.Pid, sig)
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
}

// Stop stops every server and removes the directory.
func (c *Cluster) Stop() {
	for _, s := range c.Shards {
		s.stop(syscall.SIGTERM)
	}
	os.RemoveAll(c.Dir)
}

// Query runs sql on the server and returns its answer (TabSeparated unless
// the query says otherwise). Settings are given as name, value pairs.
func (s *Server) Query(sql string, settings ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", s.URLWith(settings...), strings.NewReader(sql))
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("chtest: %s: %s", strings.TrimSpace(firstLine(sql)), strings.TrimSpace(string(b)))
	}
	return string(b), nil
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// MustQuery is Query that fails the test on error.
func (s *Server) MustQuery(tb testing.TB, sql string, settings ...string) string {
	tb.Helper()
	out, err := s.Query(sql, settings...)
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// URLWith returns the server's URL with query parameters, e.g.
// URLWith("database", "db1").
func (s *Server) URLWith(kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	return s.URL() + "?" + q.Encode()
}

// CreateFlows creates nfcollect's flows table on every shard: the
// database, the MergeTree table name_local and the Distributed table name
// over the cluster (what nfcollect --clickhouse-create makes). Query
// shard 0's name for every row of the cluster.
func (c *Cluster) CreateFlows(database, name string) error {
	t := chrow.Table{Database: database, Name: name, Cluster: ClusterName}
	for _, s := range c.Shards {
		v, err := s.Query("SELECT version()")
		if err != nil {
			return err
		}
		srv, err := chrow.ParseVersion(v)
		if err != nil {
			return err
		}
		for _, st := range t.Create(srv) {
			if _, err := s.Query(st); err != nil {
				return err
			}
		}
	}
	return nil
}

// Main is a TestMain helper: it starts a cluster of two shards into *c
// (nil when ClickHouse is missing and not required, after a loud message
// on stderr), runs the tests and stops the cluster.
func Main(m *testing.M, c **Cluster) int {
	if NoTests() {
		return m.Run() // benchmarks only (make test's -run '^$' pass)
	}
	cl, err := Start(2)
	switch {
	case errors.Is(err, ErrMissing) && !Required():
		fmt.Fprintf(os.Stderr, "\n*** SKIPPING the ClickHouse tests: %v ***\n*** (NFKIT_REQUIRE_CLICKHOUSE=1 makes this an error; make test sets it) ***\n\n", err)
	case err != nil:
		fmt.Fprintf(os.Stderr, "chtest: %v\n", err)
		return 1
	default:
		*c = cl
		defer cl.Stop()
	}
	return m.Run()
}

// NoTests reports whether the command line runs no test (-run '^$'), so
// that TestMain need not start a cluster.
func NoTests() bool {
	if !flag.Parsed() {
		flag.Parse()
	}
	f := flag.Lookup("test.run")
	return f != nil && f.Value.String() == "^$"
}

// Skip skips the test when c is nil (ClickHouse missing, not required).
func Skip(tb testing.TB, c *Cluster) {
	tb.Helper()
	if c == nil {
		tb.Skip("ClickHouse missing: clickhouse-server not installed (see the SKIPPING message)")
	}
}
