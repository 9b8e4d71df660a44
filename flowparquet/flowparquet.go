// Package flowparquet writes decoded NetFlow and IPFIX records as Apache
// Parquet files: one row per record, a typed column per key of nfcollect's
// output schema (docs/output-schema.md), and the template's other fields as
// one JSON text column, so that nothing the JSON lines carry is lost.
//
// Writing is split in two, so that the costly half runs in parallel:
// AppendRecords, run by the collector's decode workers concurrently,
// encodes records into rows (a fixed binary layout and the other fields'
// JSON text); a Writer, run by one goroutine, turns chunks of such rows
// into column values, row groups and a file. Both halves are generated from
// the schema tables in package fields (columns_gen.go); neither uses
// reflection nor allocates per record once its buffers have grown.
//
// The columns (docs/output-schema.md lists them all):
//   - times (time_received_ns, time_flow_start_ns, time_flow_end_ns) are
//     INT64 TIMESTAMP(NANOS, UTC);
//   - addresses are 16-byte FIXED_LEN_BYTE_ARRAY, IPv4 as IPv4-mapped IPv6
//     (::ffff:a.b.c.d), each followed by a <name>_family column (4 or 6);
//   - MACs are 6-byte FIXED_LEN_BYTE_ARRAY;
//   - integers are INT(bits, unsigned) of their schema width (counters
//     UINT64, ports UINT16, protocol UINT8);
//   - type is a dictionary-encoded STRING (NETFLOW_V5, IPFIX, …);
//   - present has bit k set when the record had column k;
//   - other_fields is a JSON object of the template's other fields.
//
// Every column is REQUIRED (parquet-go writes optional columns an order
// of magnitude slower): a key the record did not have holds 0 and its bit
// of present is clear. The time and address columns, and the other
// integers, have min/max statistics per row group and per page (column
// index), so that readers skip row groups by range.
package flowparquet

import (
	"errors"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/compress/snappy"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowjson"
)

// AppendRecords appends one row per record of an export packet: the rows
// a Writer reads. received is the time the packet arrived, Unix ns.
//
//nfkit:hot
func AppendRecords(b []byte, rs []decode.Record, received int64) []byte {
	for i := range rs {
		b = AppendRecord(b, &rs[i], received)
	}
	return b
}

// AppendRecord appends r's row: its fixed part, then the JSON object of
// its other fields, if it has any.
//
//nfkit:hot
func AppendRecord(b []byte, r *decode.Record, received int64) []byte {
	start := len(b)
	b = appendFixed(b, r, received)
	o := len(b)
	b = flowjson.AppendOther(b, r)
	return endOther(b, start, o)
}

// AppendSFlow appends one row per flow sample of a decoded sFlow v5
// datagram (p.Version decode.VersionSFlow5): as AppendRecord, with the
// sample's sFlow keys among the other fields. Counter samples are not
// flows and have no row.
//
//nfkit:hot
func AppendSFlow(b []byte, p *decode.Packet, received int64) []byte {
	for i := range p.Records {
		start := len(b)
		b = appendFixed(b, &p.Records[i], received)
		o := len(b)
		b = flowjson.AppendSFlowSample(b, p, i)
		b = endOther(b, start, o)
	}
	return b
}

// endOther completes a row whose other fields were appended from o on as
// `,"name":value` pairs: an object, and its length in the row's header.
//
//nfkit:hot
func endOther(b []byte, start, o int) []byte {
	if len(b) == o {
		return b
	}
	b[o] = '{' // the first field's comma
	b = append(b, '}')
	n := len(b) - o
	b[start+8], b[start+9], b[start+10], b[start+11] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
	return b
}

// putAddr stores a in 16 zeroed bytes (IPv4 mapped into IPv6) and returns
// its family, 4 or 6.
//
//nfkit:hot
func putAddr(p []byte, a netip.Addr) byte {
	_ = p[15]
	if a.Is4() {
		b := a.As4() // the first 10 bytes are zero already
		p[10], p[11], p[12], p[13], p[14], p[15] = 0xff, 0xff, b[0], b[1], b[2], b[3]
		return 4
	}
	b := a.As16()
	copy(p, b[:])
	return 6
}

// ErrCorrupt is returned by Writer.Write for bytes that are not whole rows
// of AppendRecords.
var ErrCorrupt = errors.New("flowparquet: not a whole row")

// Compression names a codec: "zstd" (the default), "lz4", "snappy",
// "gzip" or "none".
type Compression string

// codec returns the codec of c.
func (c Compression) codec() (compress.Codec, error) {
	switch strings.ToLower(string(c)) {
	case "", "zstd", "zst":
		return &zstd.Codec{Level: zstd.SpeedFastest}, nil
	case "lz4":
		return &lz4.Codec{}, nil
	case "snappy":
		return &snappy.Codec{}, nil
	case "gzip", "gz":
		return &gzip.Codec{Level: gzip.BestSpeed}, nil
	case "none", "plain":
		return &uncompressed.Codec{}, nil
	}
	return nil, fmt.Errorf("unknown Parquet compression %q (want zstd, lz4, snappy, gzip or none)", string(c))
}

// ParseCompression checks a compression name.
func ParseCompression(s string) (Compression, error) {
	c := Compression(s)
	_, err := c.codec()
	return c, err
}

// DefaultRowGroupRows is the default number of rows of a row group: large
// enough that a column's chunk holds many pages and compresses well, small
// enough (a few MiB per column at most) that readers skip by time and
// address ranges and that the writer's memory stays bounded.
const DefaultRowGroupRows = 1 << 20

// batchRows is the number of rows handed to the column writer at once.
const batchRows = 256

// Options configure a Writer.
type Options struct {
	Compression  Compression
	RowGroupRows int // default DefaultRowGroupRows
	// Metadata is added to the file's key/value metadata.
	Metadata map[string]string
}

// A Writer writes rows of AppendRecords as one Parquet file. It is not
// safe for concurrent use.
type Writer struct {
	pw    *parquet.GenericWriter[Row]
	batch []Row
	rows  int64
}

// NewWriter starts a file on w.
func NewWriter(w io.Writer, o Options) (*Writer, error) {
	codec, err := o.Compression.codec()
	if err != nil {
		return nil, err
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	opts := []parquet.WriterOption{
		parquet.Compression(codec),
		parquet.CreatedBy("nfkit", "", ""),
		parquet.MaxRowsPerRowGroup(int64(o.RowGroupRows)),
		parquet.PageBufferSize(256 << 10),
		parquet.WriteBufferSize(1 << 20),
	}
	// Min/max bounds (in the column index and the column chunk's
	// statistics) where readers filter by range; none for the JSON text,
	// the MACs, the families and the presence bits, whose comparisons cost
	// more than they save. Page headers repeat no statistics: the column
	// index has them.
	opts = append(opts, parquet.DataPageStatistics(false))
	for _, c := range columns {
		if c.Type == typeJSON || c.Type == typeMAC || c.Name == "present" || strings.HasSuffix(c.Name, "_family") {
			opts = append(opts, parquet.SkipPageBounds(c.Name))
		}
	}
	for k, v := range o.Metadata {
		opts = append(opts, parquet.KeyValueMetadata(k, v))
	}
	return &Writer{pw: parquet.NewGenericWriter[Row](w, opts...), batch: make([]Row, batchRows)}, nil
}

// Schema returns the schema of the files.
func Schema() *parquet.Schema { return parquet.SchemaOf(Row{}) }

// Check returns the number of whole rows in data, or ErrCorrupt if data
// is not a sequence of whole rows.
func Check(data []byte) (int, error) {
	n := 0
	for len(data) > 0 {
		if len(data) < rowFixed {
			return n, ErrCorrupt
		}
		o := int(uint32(data[8]) | uint32(data[9])<<8 | uint32(data[10])<<16 | uint32(data[11])<<24)
		if o > len(data)-rowFixed {
			return n, ErrCorrupt
		}
		data = data[rowFixed+o:]
		n++
	}
	return n, nil
}

// Write writes the rows in data (whole rows of AppendRecords) and returns
// their number. Data that is not whole rows is refused (ErrCorrupt)
// before anything is written. A row group is completed every RowGroupRows
// rows. An error from the file leaves the Writer unusable.
func (w *Writer) Write(data []byte) (int, error) {
	if _, err := Check(data); err != nil {
		return 0, err
	}
	total := 0
	for len(data) > 0 {
		n := 0
		for n < len(w.batch) && len(data) > 0 {
			o := int(uint32(data[8]) | uint32(data[9])<<8 | uint32(data[10])<<16 | uint32(data[11])<<24)
			other := data[rowFixed : rowFixed+o]
			if o == 0 {
				other = emptyObject
			}
			w.batch[n].set(data[:rowFixed], other)
			data = data[rowFixed+o:]
			n++
		}
		_, err := w.pw.Write(w.batch[:n])
		for i := range w.batch[:n] {
			w.batch[i].Other = nil // no reference into the caller's data
		}
		if err != nil {
			return total, err
		}
		w.rows += int64(n)
		total += n
	}
	return total, nil
}

// emptyObject is the other fields of a record that has none.
var emptyObject = []byte("{}")

// Rows returns the number of rows written.
func (w *Writer) Rows() int64 { return w.rows }

// Close completes the row group and writes the file's footer. It does not
// close the underlying writer.
func (w *Writer) Close() error {
	return w.pw.Close()
}
