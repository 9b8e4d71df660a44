// Package flowparquet writes decoded NetFlow and IPFIX records as Apache
// Parquet files: one row per record, a typed column per key of nfcollect's
// output schema (docs/output-schema.md), and the template's other fields as
// one JSON text column, so that nothing the JSON lines carry is lost.
//
// Writing is split in two, so that the costly half runs in parallel: a
// RowGroupEncoder, one per collector decode worker, puts records straight
// into typed column blocks and turns them into compressed pages and
// finished row groups (metadata and statistics included); a Writer, run
// by one goroutine, appends the finished row groups to a file and writes
// the footer. A Writer also takes rows of AppendRecords (a fixed binary
// layout and the other fields' JSON text) and encodes them itself. The
// per-column code is generated from the schema tables in package fields
// (columns_gen.go); nothing uses reflection or allocates per record once
// the buffers have grown.
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
// Every column is REQUIRED: a key the record did not have holds 0 and its
// bit of present is clear. The files are standard Parquet (the schema is
// parquet-go's for Row): data pages v1; PLAIN, or RLE_DICTIONARY with a
// PLAIN dictionary page for the type column, for the columns constant in
// a row group and for the addresses (whose pages turn PLAIN when a row
// group has more than 131072 distinct ones); the time, address and integer
// columns have min/max statistics per row group, in the order of their
// logical types, so that readers skip row groups by range.
package flowparquet

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/compress"
	"github.com/parquet-go/parquet-go/compress/gzip"
	"github.com/parquet-go/parquet-go/compress/lz4"
	"github.com/parquet-go/parquet-go/compress/uncompressed"
	"github.com/parquet-go/parquet-go/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"

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
		return &lz4Codec{Codec: lz4.Codec{Level: lz4.Fastest}}, nil
	case "snappy":
		return &snappyCodec{}, nil
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

// Options configure a Writer or a RowGroupEncoder.
type Options struct {
	Compression  Compression
	RowGroupRows int // default DefaultRowGroupRows
	// Metadata is added to the file's key/value metadata.
	Metadata map[string]string

	blockRows int // rows of a block, if fewer than blockRows (tests)
	maxDict   int // entries of an address dictionary, if fewer than maxDict (tests)
}

// A Writer writes one Parquet file: rows of AppendRecords (Write), which it
// encodes into row groups itself, or row groups encoded elsewhere by
// RowGroupEncoders (WriteRowGroups), which it appends as they are. It
// keeps the row groups' metadata and writes the footer on Close. It is
// not safe for concurrent use.
type Writer struct {
	w      io.Writer
	o      Options
	off    int64 // bytes written
	err    error // the first write error: the file is unusable
	enc    *RowGroupEncoder
	buf    []byte // a row group encoded by Write
	rows   int64
	groups []format.RowGroup
	meta   []format.RowGroup // WriteRowGroups' decoded metadata, before it is kept
}

// NewWriter starts a file on w.
func NewWriter(w io.Writer, o Options) (*Writer, error) {
	if _, err := o.Compression.codec(); err != nil {
		return nil, err
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = DefaultRowGroupRows
	}
	if _, err := fileSchema(); err != nil {
		return nil, err
	}
	return &Writer{w: w, o: o}, nil
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

// Write encodes the rows in data (whole rows of AppendRecords) and returns
// their number. Data that is not whole rows is refused (ErrCorrupt)
// before anything is written. A row group is written every RowGroupRows
// rows; Close writes the last one. An error from the file leaves the
// Writer unusable.
func (w *Writer) Write(data []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	n, err := Check(data)
	if err != nil {
		return 0, err
	}
	if w.enc == nil {
		if w.enc, err = NewRowGroupEncoder(w.o); err != nil {
			return 0, err
		}
	}
	for len(data) > 0 {
		end := rowFixed + int(binary.LittleEndian.Uint32(data[8:]))
		w.enc.appendRow(data[:end])
		data = data[end:]
		if w.enc.Rows() >= w.o.RowGroupRows {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// flush writes the row group Write encoded.
func (w *Writer) flush() error {
	if w.enc == nil || w.enc.Rows() == 0 {
		return nil
	}
	var err error
	if w.buf, err = w.enc.Finish(w.buf[:0]); err != nil {
		w.err = err
		return err
	}
	_, err = w.WriteRowGroups(w.buf)
	return err
}

// ErrRowGroup is returned by WriteRowGroups for bytes that are not row
// groups of a RowGroupEncoder.
var ErrRowGroup = errors.New("flowparquet: not an encoded row group")

// WriteRowGroups appends the row groups in data (of RowGroupEncoder.Encode)
// to the file and returns their number of rows. Data that is not whole
// row groups is refused (ErrRowGroup) before anything is written. An error
// from the file leaves the Writer unusable.
func (w *Writer) WriteRowGroups(data []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.meta = w.meta[:0]
	rows := 0
	for b := data; len(b) > 0; {
		rg, n, err := parseRowGroup(b)
		if err != nil {
			return 0, err
		}
		w.meta = append(w.meta, rg)
		rows += int(rg.NumRows)
		b = b[n:]
	}
	if w.off == 0 {
		if err := w.write([]byte("PAR1")); err != nil {
			return 0, err
		}
	}
	for i, b := 0, data; len(b) > 0; i++ {
		dl := int(binary.LittleEndian.Uint32(b[4:]))
		ml := int(binary.LittleEndian.Uint32(b[8:]))
		rg := w.meta[i]
		base := w.off
		for k := range rg.Columns {
			c := &rg.Columns[k]
			c.FileOffset += base
			c.MetaData.DataPageOffset += base
			if c.MetaData.DictionaryPageOffset != 0 || len(c.MetaData.Encoding) > 1 {
				c.MetaData.DictionaryPageOffset += base
			}
		}
		rg.FileOffset = base
		if len(w.groups) < math.MaxInt16 {
			rg.Ordinal = int16(len(w.groups))
		}
		if err := w.write(b[rowGroupHeader : rowGroupHeader+dl]); err != nil {
			return 0, err
		}
		w.groups = append(w.groups, rg)
		w.rows += rg.NumRows
		b = b[rowGroupHeader+dl+ml:]
	}
	return rows, nil
}

// parseRowGroup decodes the metadata of the encoded row group at the start
// of b, checks it, and returns it with the row group's size.
func parseRowGroup(b []byte) (format.RowGroup, int, error) {
	var rg format.RowGroup
	if len(b) < rowGroupHeader || [4]byte(b[:4]) != rowGroupMagic {
		return rg, 0, ErrRowGroup
	}
	dl := int64(binary.LittleEndian.Uint32(b[4:]))
	ml := int64(binary.LittleEndian.Uint32(b[8:]))
	if dl+ml > int64(len(b)-rowGroupHeader) {
		return rg, 0, fmt.Errorf("%w: %d bytes, %d announced", ErrRowGroup, len(b), rowGroupHeader+dl+ml)
	}
	if err := thrift.Unmarshal(new(thrift.CompactProtocol), b[rowGroupHeader+dl:rowGroupHeader+dl+ml], &rg); err != nil {
		return rg, 0, fmt.Errorf("%w: %w", ErrRowGroup, err)
	}
	if len(rg.Columns) != numColumns || rg.NumRows <= 0 || rg.TotalCompressedSize != dl {
		return rg, 0, fmt.Errorf("%w: %d columns, %d rows, %d of %d bytes", ErrRowGroup, len(rg.Columns), rg.NumRows, rg.TotalCompressedSize, dl)
	}
	var end int64
	for k := range rg.Columns {
		md := &rg.Columns[k].MetaData
		first := md.DataPageOffset
		if len(md.Encoding) > 1 {
			first = md.DictionaryPageOffset
		}
		if md.Type != columns[k].Type.physical() || len(md.PathInSchema) != 1 || md.PathInSchema[0] != columns[k].Name ||
			md.NumValues != rg.NumRows || first != end || md.TotalCompressedSize <= 0 || md.DataPageOffset < first ||
			md.DataPageOffset >= first+md.TotalCompressedSize || rg.Columns[k].FileOffset != first {
			return rg, 0, fmt.Errorf("%w: column %d (%s) does not fit", ErrRowGroup, k, columns[k].Name)
		}
		end = first + md.TotalCompressedSize
	}
	if end != dl {
		return rg, 0, fmt.Errorf("%w: columns end at %d of %d bytes", ErrRowGroup, end, dl)
	}
	return rg, int(rowGroupHeader + dl + ml), nil
}

// write writes b to the file.
func (w *Writer) write(b []byte) error {
	n, err := w.w.Write(b)
	w.off += int64(n)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
	}
	return err
}

// RowGroups returns the number of row groups written.
func (w *Writer) RowGroups() int { return len(w.groups) }

// Rows returns the number of rows written, those of the row group being
// encoded by Write included.
func (w *Writer) Rows() int64 {
	if w.enc != nil {
		return w.rows + int64(w.enc.Rows())
	}
	return w.rows
}

// Close writes the rows held and the file's footer. It does not close the
// underlying writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if w.off == 0 {
		if err := w.write([]byte("PAR1")); err != nil {
			return err
		}
	}
	fs, err := fileSchema()
	if err != nil {
		return err
	}
	md := format.FileMetaData{
		Version:      1,
		Schema:       fs.schema,
		NumRows:      w.rows,
		RowGroups:    w.groups,
		CreatedBy:    "nfkit",
		ColumnOrders: fs.orders,
	}
	keys := make([]string, 0, len(w.o.Metadata))
	for k := range w.o.Metadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		md.KeyValueMetadata = append(md.KeyValueMetadata, format.KeyValue{Key: k, Value: w.o.Metadata[k]})
	}
	footer, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		w.err = err
		return err
	}
	footer = binary.LittleEndian.AppendUint32(footer, uint32(len(footer)))
	footer = append(footer, "PAR1"...)
	return w.write(footer)
}

// schemaInfo is the schema part of the files' footer.
type schemaInfo struct {
	schema []format.SchemaElement
	orders []format.ColumnOrder
}

// fileSchema returns the footer's schema: parquet-go's for Row, taken from
// an empty file it writes, so that the files have exactly the schema of
// parquet-go's writer of the same columns (and readers that map the
// columns to Row agree with it).
var fileSchema = sync.OnceValues(func() (schemaInfo, error) {
	var buf bytes.Buffer
	pw := parquet.NewGenericWriter[Row](&buf, parquet.CreatedBy("nfkit", "", ""))
	if err := pw.Close(); err != nil {
		return schemaInfo{}, err
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		return schemaInfo{}, err
	}
	md := f.Metadata()
	if len(md.Schema) != numColumns+1 {
		return schemaInfo{}, fmt.Errorf("flowparquet: parquet-go's schema has %d elements, want %d", len(md.Schema), numColumns+1)
	}
	for k, c := range columns {
		if md.Schema[k+1].Name != c.Name {
			return schemaInfo{}, fmt.Errorf("flowparquet: parquet-go's column %d is %s, want %s", k, md.Schema[k+1].Name, c.Name)
		}
	}
	orders := md.ColumnOrders
	if len(orders) != numColumns {
		orders = make([]format.ColumnOrder, numColumns)
		for k := range orders {
			orders[k].Value = &format.TypeDefinedOrder{}
		}
	}
	return schemaInfo{schema: md.Schema, orders: orders}, nil
})
