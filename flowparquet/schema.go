package flowparquet

// columnType is how a column is stored.
type columnType uint8

const (
	typeVersion columnType = iota // STRING, dictionary-encoded
	typeTime                      // INT64 TIMESTAMP(NANOS, UTC)
	typeUint8                     // INT32 INT(8, unsigned)
	typeUint16                    // INT32 INT(16, unsigned)
	typeUint32                    // INT32 INT(32, unsigned)
	typeUint64                    // INT64 INT(64, unsigned)
	typeAddr                      // FIXED_LEN_BYTE_ARRAY(16), IPv4-mapped
	typeMAC                       // FIXED_LEN_BYTE_ARRAY(6)
	typeJSON                      // BYTE_ARRAY JSON
)

// columnSpec is one column of the files.
type columnSpec struct {
	Name string
	Doc  string
	Type columnType
}

// Column is one column of the files, for documentation.
type Column struct {
	Name string
	Type string // the Parquet type, e.g. "INT64 TIMESTAMP(NANOS)"
	Doc  string
}

var typeNames = [...]string{
	typeVersion: "BYTE_ARRAY STRING (dictionary-encoded)",
	typeTime:    "INT64 TIMESTAMP(NANOS, UTC)",
	typeUint8:   "INT32 INT(8, unsigned)",
	typeUint16:  "INT32 INT(16, unsigned)",
	typeUint32:  "INT32 INT(32, unsigned)",
	typeUint64:  "INT64 INT(64, unsigned)",
	typeAddr:    "FIXED_LEN_BYTE_ARRAY(16)",
	typeMAC:     "FIXED_LEN_BYTE_ARRAY(6)",
	typeJSON:    "BYTE_ARRAY JSON",
}

// Columns returns the columns of the files, in file order.
func Columns() []Column {
	out := make([]Column, len(columns))
	for i, c := range columns {
		out[i] = Column{Name: c.Name, Type: typeNames[c.Type], Doc: c.Doc}
	}
	return out
}
