package chrow

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Table names the ClickHouse table of flows and how it is laid out.
type Table struct {
	Database string // "" = default
	Name     string // the table inserts go to and queries read (default "flows")
	// Cluster, when set, makes Name a Distributed table over the local
	// MergeTree tables Name+"_local" on every shard of that cluster.
	Cluster string
	// Retention, when positive, is how long rows are kept (whole days,
	// rounded up): a TTL on servers that have it (TTLDays), else the
	// collector drops old daily partitions.
	Retention time.Duration
}

// Ident quotes a ClickHouse identifier with backquotes.
func Ident(s string) string {
	return "`" + strings.NewReplacer("\\", "\\\\", "`", "\\`").Replace(s) + "`"
}

// Quote returns s as a ClickHouse string literal.
func Quote(s string) string {
	return "'" + strings.NewReplacer("\\", "\\\\", "'", "\\'").Replace(s) + "'"
}

func (t Table) name() string {
	if t.Name == "" {
		return "flows"
	}
	return t.Name
}

// qualified returns db.name quoted.
func (t Table) qualified(name string) string {
	if t.Database == "" {
		return Ident(name)
	}
	return Ident(t.Database) + "." + Ident(name)
}

// Target returns the quoted name inserts and queries use.
func (t Table) Target() string { return t.qualified(t.name()) }

// LocalName returns the name of the MergeTree table (Name, or Name_local
// with a cluster).
func (t Table) LocalName() string {
	if t.Cluster != "" {
		return t.name() + "_local"
	}
	return t.name()
}

// Local returns the quoted name of the MergeTree table.
func (t Table) Local() string { return t.qualified(t.LocalName()) }

// RetentionDays returns the retention in whole days, rounded up (0: none).
func (t Table) RetentionDays() int {
	if t.Retention <= 0 {
		return 0
	}
	return int((t.Retention + 24*time.Hour - 1) / (24 * time.Hour))
}

// ColumnList returns the columns' names, quoted, comma-separated: the
// column list of an INSERT.
func ColumnList() string {
	var names []string
	for _, c := range Columns() {
		names = append(names, Ident(c.Name))
	}
	return strings.Join(names, ", ")
}

// Insert returns the INSERT statement whose data is RowBinary rows.
func (t Table) Insert() string {
	return "INSERT INTO " + t.Target() + " (" + ColumnList() + ") FORMAT RowBinary"
}

// InsertLocal returns the INSERT statement into the local MergeTree table
// (a node of a cluster), whose data is RowBinary rows.
func (t Table) InsertLocal() string {
	return "INSERT INTO " + t.Local() + " (" + ColumnList() + ") FORMAT RowBinary"
}

// OrderBy is the sorting key of the MergeTree table: the hour first, so
// that time ranges read only their granules across exporters, then the
// exporter and the receive time, so that an exporter's flows of an hour
// are together (per-exporter time ranges, top talkers of an exporter).
const OrderBy = "(intDiv(time_received_ns, 3600000000000), sampler_address, time_received_ns)"

// Server describes what the server supports, from SELECT version().
type Server struct {
	Major, Minor int
}

// ParseVersion parses the answer of SELECT version() ("18.16.1",
// "24.3.2.23").
func ParseVersion(v string) (Server, error) {
	parts := strings.SplitN(strings.TrimSpace(v), ".", 3)
	if len(parts) < 2 {
		return Server{}, fmt.Errorf("clickhouse: unexpected version %q", v)
	}
	maj, err1 := strconv.Atoi(parts[0])
	mino, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return Server{}, fmt.Errorf("clickhouse: unexpected version %q", v)
	}
	return Server{maj, mino}, nil
}

func (s Server) atLeast(maj, min int) bool {
	return s.Major > maj || s.Major == maj && s.Minor >= min
}

// TTL reports whether the server has table TTLs (19.6 and later).
func (s Server) TTL() bool { return s.atLeast(19, 6) }

// CreateLocal returns the statement that creates the MergeTree table if
// it is missing. The types are those of every release since 18.16; with
// a retention, a server with TTLs gets one.
func (t Table) CreateLocal(srv Server) string {
	var b strings.Builder
	b.WriteString("CREATE TABLE IF NOT EXISTS " + t.Local() + " (\n")
	cols := Columns()
	for i, c := range cols {
		fmt.Fprintf(&b, "    %s %s", Ident(c.Name), c.Type)
		if i < len(cols)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString(") ENGINE = MergeTree\nPARTITION BY toYYYYMMDD(date)\nORDER BY " + OrderBy)
	if d := t.RetentionDays(); d > 0 && srv.TTL() {
		fmt.Fprintf(&b, "\nTTL date + toIntervalDay(%d)", d)
	}
	return b.String()
}

// CreateDistributed returns the statement that creates the Distributed
// table over the cluster's local tables, rows spread evenly (rand()).
func (t Table) CreateDistributed() string {
	db := "currentDatabase()"
	if t.Database != "" {
		db = Quote(t.Database)
	}
	return fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s AS %s ENGINE = Distributed(%s, %s, %s, rand())",
		t.Target(), t.Local(), Quote(t.Cluster), db, Quote(t.LocalName()))
}

// CreateDatabase returns the statement that creates the database, or "".
func (t Table) CreateDatabase() string {
	if t.Database == "" {
		return ""
	}
	return "CREATE DATABASE IF NOT EXISTS " + Ident(t.Database)
}

// Create returns the statements that create what is missing on one node
// (every shard of a cluster runs them all).
func (t Table) Create(srv Server) []string {
	var out []string
	if s := t.CreateDatabase(); s != "" {
		out = append(out, s)
	}
	out = append(out, t.CreateLocal(srv))
	if t.Cluster != "" {
		out = append(out, t.CreateDistributed())
	}
	return out
}

// ModifyTTL returns the statement that sets the retention TTL on an
// existing table (servers with TTLs).
func (t Table) ModifyTTL() string {
	return fmt.Sprintf("ALTER TABLE %s MODIFY TTL date + toIntervalDay(%d)", t.Local(), t.RetentionDays())
}

// OldPartitions returns the query listing the daily partitions of the
// local table older than the retention, at now.
func (t Table) OldPartitions(now time.Time) string {
	db := "currentDatabase()"
	if t.Database != "" {
		db = Quote(t.Database)
	}
	cutoff := now.UTC().AddDate(0, 0, -t.RetentionDays()).Format("20060102")
	return fmt.Sprintf("SELECT DISTINCT partition FROM system.parts WHERE database = %s AND table = %s AND active AND partition < %s ORDER BY partition FORMAT TabSeparated",
		db, Quote(t.LocalName()), Quote(cutoff))
}

// DropPartition returns the statement that drops a daily partition
// (as OldPartitions lists it: YYYYMMDD).
func (t Table) DropPartition(p string) (string, error) {
	if len(p) != 8 {
		return "", fmt.Errorf("clickhouse: unexpected partition %q", p)
	}
	if _, err := strconv.Atoi(p); err != nil {
		return "", fmt.Errorf("clickhouse: unexpected partition %q", p)
	}
	return "ALTER TABLE " + t.Local() + " DROP PARTITION " + p, nil
}

// Tables returns the names of the tables Create makes on a node: the
// MergeTree table and, with a cluster, the Distributed table.
func (t Table) Tables() []string {
	if t.Cluster != "" {
		return []string{t.LocalName(), t.name()}
	}
	return []string{t.LocalName()}
}

// ListColumns returns the query of the names of table's columns (a name
// as LocalName returns, or Name), one a line.
func (t Table) ListColumns(table string) string {
	db := "currentDatabase()"
	if t.Database != "" {
		db = Quote(t.Database)
	}
	return fmt.Sprintf("SELECT name FROM system.columns WHERE database = %s AND table = %s FORMAT TabSeparated", db, Quote(table))
}

// AddMissing returns the statements that add to table the columns of
// Columns that are not in have (its columns, as ListColumns lists them):
// how a table created by an earlier nfcollect gets the columns added
// since (the sFlow columns). Existing rows read 0, zeros or an empty list
// there, as the rows of records without them. Columns are added at the
// end; inserts name their columns, so the order does not matter.
func (t Table) AddMissing(table string, have []string) []string {
	got := map[string]bool{}
	for _, h := range have {
		got[h] = true
	}
	var out []string
	for _, c := range Columns() {
		if !got[c.Name] {
			out = append(out, "ALTER TABLE "+t.qualified(table)+" ADD COLUMN "+Ident(c.Name)+" "+c.Type)
		}
	}
	return out
}
