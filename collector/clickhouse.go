package collector

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nfkit/nfkit/chrow"
)

// ClickHouseRows encodes records as ClickHouse RowBinary rows (package
// chrow), for a ClickHouseSink.
type ClickHouseRows struct{}

// AppendPacket appends a row per data record.
func (ClickHouseRows) AppendPacket(b []byte, e *Export) []byte {
	return chrow.AppendPacket(b, e.Packet, e.Received)
}

// ClickHouseConfig configures the connection to ClickHouse.
type ClickHouseConfig struct {
	// URLs are the HTTP interfaces of one or more nodes
	// (http://host:8123/?database=netflow). The user, password and
	// database may be in a URL (userinfo, or user=, password=,
	// database= parameters); other parameters are passed as settings.
	// With one URL, or without a cluster, inserts go to the first node
	// (the Distributed table, with a cluster) and move to the next when
	// one cannot be reached. With a cluster and several URLs (every
	// node), each batch goes straight into one node's local table, the
	// nodes taken in turn (a node that could not be reached is skipped
	// for a while): the rows are spread as the Distributed table's
	// rand() would, but each is parsed once, by its shard. DDL (Create)
	// and retention run on every node.
	URLs     []string
	Password string      // overrides the URLs' password (--clickhouse-password-file)
	Table    chrow.Table // Database from the URL when empty
	// Compress is the compression of the rows on the wire: Gzip
	// (Content-Encoding: gzip, which every release takes) or Plain.
	Compress Codec
	Timeout  time.Duration // per request (default 60s)
}

// chNode is one node's HTTP interface.
type chNode struct {
	base     string     // scheme://host:port/path
	params   url.Values // settings passed on every request
	user     string
	password string
	hasAuth  bool
}

// ClickHouse talks to ClickHouse over its HTTP interface: it is the
// Deliverer of a ClickHouseSink (INSERT … FORMAT RowBinary), creates the
// table and applies the retention. It is safe for concurrent use.
type ClickHouse struct {
	cfg    ClickHouseConfig
	nodes  []chNode
	cur    atomic.Int32 // node that takes inserts
	spread bool         // inserts into the nodes' local tables, in turn
	next   atomic.Uint32
	down   []atomic.Int64 // Unix ns until which a node that failed is skipped
	client *http.Client
	insert string
}

// downFor is how long a node that could not be reached is skipped.
const downFor = 10 * time.Second

// NewClickHouse checks the configuration; it does not connect.
func NewClickHouse(cfg ClickHouseConfig) (*ClickHouse, error) {
	if len(cfg.URLs) == 0 {
		return nil, errors.New("clickhouse: no URL")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 60 * time.Second
	}
	if cfg.Compress != Gzip && cfg.Compress != Plain {
		return nil, errors.New("clickhouse: compression is gzip or none")
	}
	c := &ClickHouse{cfg: cfg, client: &http.Client{}}
	db := ""
	for _, raw := range cfg.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("clickhouse: bad URL: %w", redactErr(err))
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
			return nil, fmt.Errorf("clickhouse: URL %s: want http://host:port/ or https://", u.Redacted())
		}
		n := chNode{params: u.Query()}
		if u.User != nil {
			n.user = u.User.Username()
			n.password, _ = u.User.Password()
			n.hasAuth = true
		}
		if v := n.params.Get("user"); v != "" {
			n.user, n.hasAuth = v, true
		}
		if v, ok := n.params["password"]; ok {
			n.password, n.hasAuth = v[0], true
		}
		if cfg.Password != "" {
			n.password, n.hasAuth = cfg.Password, true
		}
		if n.hasAuth && n.user == "" {
			n.user = "default"
		}
		if d := n.params.Get("database"); d != "" {
			if db != "" && d != db {
				return nil, fmt.Errorf("clickhouse: the URLs name different databases (%s, %s)", db, d)
			}
			db = d
		}
		// Names are qualified with the database instead: the parameter
		// would fail every query while the database does not exist.
		for _, k := range []string{"user", "password", "database", "query"} {
			n.params.Del(k)
		}
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		n.base = u.String()
		c.nodes = append(c.nodes, n)
	}
	if c.cfg.Table.Database == "" {
		c.cfg.Table.Database = db
	}
	c.insert = c.cfg.Table.Insert()
	c.down = make([]atomic.Int64, len(c.nodes))
	if c.cfg.Table.Cluster != "" && len(c.nodes) > 1 {
		c.spread = true
		c.insert = c.cfg.Table.InsertLocal()
	}
	return c, nil
}

// redactErr drops a URL from a parse error, which may carry a password.
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Table returns the table, its database resolved.
func (c *ClickHouse) Table() chrow.Table { return c.cfg.Table }

// Nodes returns the number of nodes.
func (c *ClickHouse) Nodes() int { return len(c.nodes) }

// Node returns node i's URL, without credentials.
func (c *ClickHouse) Node(i int) string { return c.nodes[i].base }

// chError is an error answer of the server.
type chError struct {
	node   string
	status int
	code   int // ClickHouse exception code, 0 if none
	msg    string
}

func (e *chError) Error() string {
	return fmt.Sprintf("clickhouse %s: HTTP %d: %s", e.node, e.status, e.msg)
}

var codeRE = regexp.MustCompile(`Code: (\d+)`)

// rejectCodes are the exception codes of data the server cannot read:
// retrying the same batch would fail again.
var rejectCodes = map[int]bool{
	6:   true, // CANNOT_PARSE_TEXT
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	32:  true, // ATTEMPT_TO_READ_AFTER_EOF (a batch cut in a length or array count)
	33:  true, // CANNOT_READ_ALL_DATA
	38:  true, // CANNOT_PARSE_DATE
	41:  true, // CANNOT_PARSE_DATETIME
	69:  true, // ARGUMENT_OUT_OF_BOUND
	72:  true, // CANNOT_PARSE_NUMBER
	117: true, // INCORRECT_DATA
	131: true, // TOO_LARGE_STRING_SIZE
	354: true, // CANNOT_DECOMPRESS (inflate failed)
	432: true, // UNKNOWN_CODEC
	691: true, // UNKNOWN_ELEMENT_OF_ENUM
}

// do sends one request to node i and returns the body of a 200 answer.
func (c *ClickHouse) do(ctx context.Context, i int, query string, body []byte, gzipped bool) ([]byte, error) {
	n := &c.nodes[i]
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	q := url.Values{}
	for k, v := range n.params {
		q[k] = v
	}
	var req *http.Request
	var err error
	if body == nil {
		req, err = http.NewRequestWithContext(ctx, "POST", n.base+"?"+q.Encode(), strings.NewReader(query))
	} else {
		q.Set("query", query)
		req, err = http.NewRequestWithContext(ctx, "POST", n.base+"?"+q.Encode(), bytes.NewReader(body))
	}
	if err != nil {
		return nil, err
	}
	if gzipped {
		req.Header.Set("Content-Encoding", "gzip")
	}
	if n.hasAuth {
		req.Header.Set("X-ClickHouse-User", n.user)
		req.Header.Set("X-ClickHouse-Key", n.password)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: %w", n.base, redactErr(err))
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("clickhouse %s: reading the answer: %w", n.base, redactErr(err))
	}
	if resp.StatusCode != http.StatusOK {
		e := &chError{node: n.base, status: resp.StatusCode, msg: strings.TrimSpace(string(out))}
		if len(e.msg) > 1000 {
			e.msg = e.msg[:1000] + "…"
		}
		if m := codeRE.FindStringSubmatch(e.msg); m != nil {
			e.code, _ = strconv.Atoi(m[1])
		}
		if v := resp.Header.Get("X-ClickHouse-Exception-Code"); v != "" {
			e.code, _ = strconv.Atoi(v)
		}
		return nil, e
	}
	return out, nil
}

// Deliver inserts a batch of RowBinary rows (gzip members when Compress
// is Gzip). A batch the server cannot parse is rejected (ErrRejected).
// When a node cannot be reached, the next insert goes to the next node.
func (c *ClickHouse) Deliver(ctx context.Context, batch []byte, records int) error {
	i := c.pick()
	_, err := c.do(ctx, i, c.insert, batch, c.cfg.Compress == Gzip)
	if err == nil {
		return nil
	}
	var e *chError
	if errors.As(err, &e) {
		if rejectCodes[e.code] {
			return fmt.Errorf("%w: %d records: %v", ErrRejected, records, err)
		}
		return err
	}
	if len(c.nodes) > 1 && ctx.Err() == nil {
		c.down[i].Store(time.Now().Add(downFor).UnixNano())
		c.cur.CompareAndSwap(int32(i), int32((i+1)%len(c.nodes)))
	}
	return err
}

// pick returns the node of the next insert: the current one, or with
// spread inserts the next in turn that has not failed lately.
func (c *ClickHouse) pick() int {
	n := len(c.nodes)
	if !c.spread {
		return int(c.cur.Load()) % n
	}
	now := time.Now().UnixNano()
	first := int(c.next.Add(1)-1) % n
	for k := range n {
		i := (first + k) % n
		if c.down[i].Load() <= now {
			return i
		}
	}
	return first // all failed lately: try anyway
}

// Close releases idle connections.
func (c *ClickHouse) Close() error {
	c.client.CloseIdleConnections()
	return nil
}

// Exec runs a statement on node i and returns the answer.
func (c *ClickHouse) Exec(ctx context.Context, i int, sql string) (string, error) {
	out, err := c.do(ctx, i, sql, nil, false)
	return string(out), err
}

// Version returns the version of node i.
func (c *ClickHouse) Version(ctx context.Context, i int) (chrow.Server, error) {
	v, err := c.Exec(ctx, i, "SELECT version()")
	if err != nil {
		return chrow.Server{}, err
	}
	return chrow.ParseVersion(v)
}

// Create creates what is missing (the database, the MergeTree table and,
// with a cluster, the Distributed table) on every node, each statement as
// the node's version allows; with a retention, a server with TTLs gets it
// on an existing table too.
func (c *ClickHouse) Create(ctx context.Context, log *slog.Logger) error {
	t := c.cfg.Table
	if t.Cluster != "" && len(c.nodes) == 1 {
		log.Warn("clickhouse: creating the tables on the one node given; the other shards of the cluster need their local table too (give every node's URL)",
			"cluster", t.Cluster, "local", t.Local())
	}
	for i := range c.nodes {
		srv, err := c.Version(ctx, i)
		if err != nil {
			return err
		}
		for _, st := range t.Create(srv) {
			if _, err := c.Exec(ctx, i, st); err != nil {
				return err
			}
		}
		if err := c.addMissing(ctx, i, log); err != nil {
			return err
		}
		if t.RetentionDays() > 0 && srv.TTL() {
			if _, err := c.Exec(ctx, i, t.ModifyTTL()); err != nil {
				return err
			}
		}
		log.Info("clickhouse: table ready", "node", c.nodes[i].base, "version", fmt.Sprintf("%d.%d", srv.Major, srv.Minor),
			"table", t.Target(), "local", t.Local(), "cluster", t.Cluster)
	}
	return nil
}

// addMissing adds to the tables of node i (the local table and, with a
// cluster, the Distributed table) the columns an earlier nfcollect did not
// create: a table of flows made before the sFlow columns gets them.
func (c *ClickHouse) addMissing(ctx context.Context, i int, log *slog.Logger) error {
	t := c.cfg.Table
	for _, table := range t.Tables() {
		out, err := c.Exec(ctx, i, t.ListColumns(table))
		if err != nil {
			return err
		}
		for _, st := range t.AddMissing(table, strings.Fields(out)) {
			if _, err := c.Exec(ctx, i, st); err != nil {
				return err
			}
			log.Info("clickhouse: column added", "node", c.nodes[i].base, "statement", st)
		}
	}
	return nil
}

// Retain drops, on every node whose server has no TTL, the daily
// partitions older than the retention; it returns how many it dropped.
func (c *ClickHouse) Retain(ctx context.Context, now time.Time, log *slog.Logger) (int, error) {
	t := c.cfg.Table
	if t.RetentionDays() == 0 {
		return 0, nil
	}
	dropped := 0
	var errs []error
	for i := range c.nodes {
		srv, err := c.Version(ctx, i)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if srv.TTL() {
			continue
		}
		out, err := c.Exec(ctx, i, t.OldPartitions(now))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sc := bufio.NewScanner(strings.NewReader(out))
		for sc.Scan() {
			p := strings.TrimSpace(sc.Text())
			if p == "" {
				continue
			}
			st, err := t.DropPartition(p)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if _, err := c.Exec(ctx, i, st); err != nil {
				errs = append(errs, err)
				continue
			}
			dropped++
			log.Info("clickhouse: dropped a partition past the retention", "node", c.nodes[i].base, "table", t.Local(), "partition", p)
		}
	}
	return dropped, errors.Join(errs...)
}

// RunRetention applies the retention now and then every interval until
// ctx is done.
func (c *ClickHouse) RunRetention(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := c.Retain(ctx, time.Now(), log); err != nil && ctx.Err() == nil {
			log.Error("clickhouse: retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ClickHouseSink is the DeliverySink of a ClickHouse output: the workers
// compress their chunks (gzip members, which ClickHouse reads as one
// stream), batches are inserted by a ClickHouse.
type ClickHouseSink struct {
	*DeliverySink
	codec Codec
}

// NewClickHouseSink starts delivering to ch.
func NewClickHouseSink(ch *ClickHouse, cfg DeliveryConfig, log *slog.Logger) (*ClickHouseSink, error) {
	if cfg.Name == "" {
		cfg.Name = "clickhouse"
	}
	d, err := NewDeliverySink(ch, cfg, log)
	if err != nil {
		return nil, err
	}
	return &ClickHouseSink{DeliverySink: d, codec: ch.cfg.Compress}, nil
}

// NewFramer returns a worker's compressor (Framing).
func (s *ClickHouseSink) NewFramer() (Framer, error) { return newFramer(s.codec) }
