package collector

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/nfkit/nfkit/decode"
	"github.com/nfkit/nfkit/flowparquet"
)

// ParquetRows encodes records as rows of flowparquet.AppendRecords. A
// ParquetSink does not use it: it encodes in the decode workers itself
// (Batching); it is the Output's Encoder for the interface's sake, and
// for programs that feed rows to a flowparquet.Writer.
type ParquetRows struct{}

// AppendPacket appends one row per data record.
//
//nfkit:hot
func (ParquetRows) AppendPacket(b []byte, e *Export) []byte {
	if e.Packet.Version == decode.VersionSFlow5 {
		return flowparquet.AppendSFlow(b, e.Packet, e.Received)
	}
	return flowparquet.AppendRecords(b, e.Packet.Records, e.Received)
}

// A Batcher is a decode worker's own encoder for a sink that encodes
// whole batches of records (Batching): the Parquet sink's row groups. The
// worker calls Append for every export packet, Flush when Full says so
// (and on its flush interval and at shutdown), and hands what Flush
// returns to the sink as a chunk. A Batcher is used by one worker only.
type Batcher interface {
	// Append adds the records of an export packet and reports whether
	// there were any.
	Append(e *Export) bool
	// Full reports that the batch should be flushed now.
	Full() bool
	// Flush returns the encoded batch (valid until the next call) and
	// starts a new one. Nil means the batch could not be encoded: the
	// sink refuses the chunk and its records are counted as lost.
	Flush() []byte
}

// Batching is implemented by sinks whose chunks are encoded by a Batcher
// of each worker, in place of the Output's Encoder and of a Framer.
type Batching interface {
	NewBatcher() (Batcher, error)
}

// parquetBatcher encodes a worker's records as Parquet row groups.
type parquetBatcher struct {
	enc *flowparquet.RowGroupEncoder
	out []byte
	log *slog.Logger
}

// NewBatcher returns a worker's row group encoder (Batching).
func (s *ParquetSink) NewBatcher() (Batcher, error) {
	enc, err := flowparquet.NewRowGroupEncoder(flowparquet.Options{Compression: s.cfg.Compression, RowGroupRows: s.cfg.RowGroupRows})
	if err != nil {
		return nil, err
	}
	return &parquetBatcher{enc: enc, log: s.log}, nil
}

// Append adds the packet's records to the row group.
//
//nfkit:hot
func (b *parquetBatcher) Append(e *Export) bool {
	if e.Packet.Version == decode.VersionSFlow5 {
		return b.enc.AppendSFlow(e.Packet, e.Received) > 0
	}
	return b.enc.AppendRecords(e.Packet.Records, e.Received) > 0
}

// Full reports that the row group has its rows.
//
//nfkit:hot
func (b *parquetBatcher) Full() bool { return b.enc.Full() }

// Flush completes the row group.
func (b *parquetBatcher) Flush() []byte {
	out, err := b.enc.Finish(b.out[:0])
	if cap(out) <= 16<<20 {
		b.out = out
	} else {
		b.out = nil // a very large row group: not kept for the next
	}
	if err != nil {
		b.log.Error("encoding a Parquet row group failed; its rows are lost", "err", err)
		return nil
	}
	return out
}

// ParquetConfig configures a ParquetSink: one file (Path), or one file per
// Interval in Dir.
type ParquetConfig struct {
	Path string // one file, completed when the sink closes or rotates

	Dir      string
	Prefix   string        // file name prefix (default "nfcollect")
	Interval time.Duration // > 0 for rotated files

	Compression  flowparquet.Compression // default zstd
	RowGroupRows int                     // default flowparquet.DefaultRowGroupRows
}

// parquetTmpSuffix ends the names of the files being written. It is not
// ".tmp", so that a RotateSink sharing the directory leaves them alone.
const parquetTmpSuffix = ".incomplete"

// ParquetSink writes the rows of ParquetRows as Parquet files. A file is
// written under a hidden temporary name (.NAME.RANDOM.incomplete) in the
// directory of its final name and renamed into place, never over an
// existing file, once its footer is written: when its interval ends
// (rotated files), on Rotate (SIGHUP) and on Close. A Parquet file cannot
// be read before its footer, so a crash loses the file being written:
// with rotation, at most one interval of flows. Such files are counted and
// reported at the next start (Unfinished), never deleted.
type ParquetSink struct {
	cfg ParquetConfig
	log *slog.Logger

	f      *os.File // the current temporary file, or nil
	w      *flowparquet.Writer
	slot   time.Time // start of its interval
	final  string    // its name when complete
	closed bool

	unfinished []string
	// Counters for SinkMetrics, read by the metrics handler.
	unfinishedBytes atomic.Int64
	files           atomic.Int64 // completed
	abandoned       atomic.Int64 // given up (a write error) or not completed
	rowGroups       atomic.Int64
}

// NewParquetSink checks the configuration, creates the directory, reports
// the files a previous run left unfinished and checks that files can be
// created there.
func NewParquetSink(cfg ParquetConfig, log *slog.Logger) (*ParquetSink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if _, err := flowparquet.ParseCompression(string(cfg.Compression)); err != nil {
		return nil, err
	}
	if (cfg.Path == "") == (cfg.Interval <= 0) {
		return nil, errors.New("a Parquet output is either one file or rotated files with a positive interval")
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "nfcollect"
	}
	s := &ParquetSink{cfg: cfg, log: log}
	dir, pattern := cfg.Dir, "."+cfg.Prefix+".*"+parquetTmpSuffix
	if cfg.Path != "" {
		dir, pattern = filepath.Dir(cfg.Path), "."+filepath.Base(cfg.Path)+".*"+parquetTmpSuffix
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	s.unfinished, _ = filepath.Glob(filepath.Join(dir, pattern))
	if n := len(s.unfinished); n > 0 {
		var size int64
		for _, name := range s.unfinished {
			if fi, err := os.Stat(name); err == nil {
				size += fi.Size()
			}
		}
		log.Warn("Parquet files left unfinished by a previous run (a crash before their footer): unreadable, kept as they are",
			"files", n, "bytes", size, "names", strings.Join(s.unfinished, ", "))
		s.unfinishedBytes.Store(size)
	}
	probe, err := createTemp(dir, ".nfcollect.probe.", parquetTmpSuffix+"-probe")
	if err != nil {
		return nil, fmt.Errorf("cannot create files in %s: %w", dir, err)
	}
	probe.Close()
	os.Remove(probe.Name())
	return s, nil
}

// Unfinished returns the unfinished files of a previous run found at
// start.
func (s *ParquetSink) Unfinished() []string { return s.unfinished }

// errEmptyChunk is a chunk of records without data: its row group could
// not be encoded.
var errEmptyChunk = errors.New("parquet: a chunk of records without its row group (encoding failed)")

// Write writes a chunk of row groups (of a worker's Batcher) to the file
// of the chunk's interval, completing the current file first when that
// interval has ended.
func (s *ParquetSink) Write(c Chunk) error {
	if s.closed {
		return errors.New("parquet output closed")
	}
	if len(c.Data) == 0 {
		if c.Records > 0 {
			return errEmptyChunk
		}
		return nil
	}
	if s.f != nil && s.cfg.Interval > 0 && !c.Time.Before(s.slot.Add(s.cfg.Interval)) {
		if err := s.complete(); err != nil {
			s.log.Error("completing a Parquet file failed", "err", err)
		}
	}
	if s.f == nil {
		if err := s.open(c.Time); err != nil {
			return err
		}
	}
	before := s.w.RowGroups()
	_, err := s.w.WriteRowGroups(c.Data)
	s.rowGroups.Add(int64(s.w.RowGroups() - before))
	if err != nil {
		if errors.Is(err, flowparquet.ErrRowGroup) {
			return err // refused before anything was written
		}
		s.abandon(err)
		return err
	}
	return nil
}

// SinkMetrics reports the files of a previous run found unfinished, and
// this run's files and row groups (MetricsSink).
func (s *ParquetSink) SinkMetrics() []SinkMetric {
	return []SinkMetric{
		{Name: "nfcollect_parquet_unfinished_files", Type: "gauge", Value: float64(len(s.unfinished)),
			Help: "Parquet files a previous run left unfinished (no footer: unreadable), found at start and kept."},
		{Name: "nfcollect_parquet_unfinished_bytes", Type: "gauge", Value: float64(s.unfinishedBytes.Load()),
			Help: "Size of the unfinished Parquet files found at start."},
		{Name: "nfcollect_parquet_files_total", Type: "counter", Value: float64(s.files.Load()),
			Help: "Parquet files completed (footer written, renamed into place)."},
		{Name: "nfcollect_parquet_abandoned_files_total", Type: "counter", Value: float64(s.abandoned.Load()),
			Help: "Parquet files given up after a write error or a failed completion, left under their temporary name."},
		{Name: "nfcollect_parquet_row_groups_total", Type: "counter", Value: float64(s.rowGroups.Load()),
			Help: "Row groups written to Parquet files."},
	}
}

// open starts the file of t's interval (or the single file).
func (s *ParquetSink) open(t time.Time) error {
	final := s.cfg.Path
	if final == "" {
		s.slot = t.Truncate(s.cfg.Interval)
		stamp := s.slot.UTC().Format("200601021504")
		if s.cfg.Interval < time.Minute {
			stamp = s.slot.UTC().Format("20060102150405")
		}
		final = filepath.Join(s.cfg.Dir, s.cfg.Prefix+"."+stamp+".parquet")
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := createTemp(dir, "."+filepath.Base(final)+".", parquetTmpSuffix)
	if err != nil {
		return err
	}
	w, err := flowparquet.NewWriter(f, flowparquet.Options{
		Compression:  s.cfg.Compression,
		RowGroupRows: s.cfg.RowGroupRows,
		Metadata:     map[string]string{"nfkit.schema": "nfcollect flows (docs/output-schema.md)"},
	})
	if err != nil {
		f.Close()
		os.Remove(f.Name())
		return err
	}
	s.f, s.w, s.final = f, w, final
	return nil
}

// abandon gives up the current file after a write error: the rows
// written to it cannot be completed into a readable file. The file is
// left under its temporary name (reported at the next start) and the next
// chunk starts a new one.
func (s *ParquetSink) abandon(err error) {
	s.log.Error("Parquet file abandoned after a write error; its rows are lost", "file", s.f.Name(),
		"rows", s.w.Rows(), "err", err)
	s.f.Close()
	s.f, s.w = nil, nil
	s.abandoned.Add(1)
}

// complete writes the current file's footer and renames it into place.
func (s *ParquetSink) complete() error {
	if s.f == nil {
		return nil
	}
	f, w := s.f, s.w
	s.f, s.w = nil, nil
	err := w.Close()
	if err == nil {
		err = f.Sync()
	}
	if err != nil {
		f.Close()
		s.abandoned.Add(1)
		s.log.Error("Parquet file could not be completed; its rows are lost", "file", f.Name(), "rows", w.Rows(), "err", err)
		return err
	}
	if w.Rows() == 0 {
		return os.Remove(f.Name())
	}
	tmp, err := s.restore(f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		s.abandoned.Add(1)
		s.log.Error("Parquet file could not be completed; its rows are lost", "file", f.Name(), "rows", w.Rows(), "err", err)
		return err
	}
	name, err := placeParquet(tmp, s.final)
	if err != nil {
		s.abandoned.Add(1)
		return err
	}
	s.files.Add(1)
	if name != s.final {
		s.log.Warn("Parquet file name taken; wrote under another", "want", s.final, "file", name)
	}
	return syncDir(filepath.Dir(name))
}

// restore returns the temporary name of the complete file f. When that
// name no longer holds f (the file or its directory was deleted while it
// was written), the content is copied from the open file into a new
// temporary file in the recreated directory, so that nothing is lost.
func (s *ParquetSink) restore(f *os.File) (string, error) {
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if pi, err := os.Stat(f.Name()); err == nil && os.SameFile(fi, pi) {
		return f.Name(), nil
	}
	dir := filepath.Dir(f.Name())
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("the output directory was removed and cannot be recreated: %w", err)
	}
	nf, err := createTemp(dir, "."+filepath.Base(s.final)+".", parquetTmpSuffix)
	if err != nil {
		return "", err
	}
	_, err = io.Copy(nf, io.NewSectionReader(f, 0, fi.Size()))
	if err == nil {
		err = nf.Sync()
	}
	if cerr := nf.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(nf.Name())
		return "", fmt.Errorf("restoring the deleted Parquet file %s: %w", f.Name(), err)
	}
	s.log.Warn("Parquet file (or its directory) was deleted while written; restored it", "file", s.final, "bytes", fi.Size())
	return nf.Name(), nil
}

// placeParquet renames tmp to final, or to final with a number before
// ".parquet" when final exists, and returns the name used.
func placeParquet(tmp, final string) (string, error) {
	stem, ext := final, ""
	if strings.HasSuffix(final, ".parquet") {
		stem, ext = strings.TrimSuffix(final, ".parquet"), ".parquet"
	}
	name := final
	for n := 1; ; n++ {
		err := renameNoReplace(tmp, name)
		if !errors.Is(err, fs.ErrExist) || n > 1000 {
			return name, err
		}
		name = fmt.Sprintf("%s.%d%s", stem, n, ext)
	}
}

// Rotate completes the current file; the next chunk starts a new one.
func (s *ParquetSink) Rotate(time.Time) error { return s.complete() }

// Tick completes the current file when its interval has ended.
func (s *ParquetSink) Tick(now time.Time) error {
	if s.f == nil || s.cfg.Interval <= 0 || now.Before(s.slot.Add(s.cfg.Interval)) {
		return nil
	}
	return s.complete()
}

// Close completes the current file.
func (s *ParquetSink) Close() error {
	s.closed = true
	return s.complete()
}
