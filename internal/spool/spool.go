// Package spool keeps batches on disk, in order, while a remote receiver
// (ClickHouse, Kafka) cannot take them.
//
// A spool is a directory of segment files, one batch each, named by a
// sequence number that only grows, so that replay follows the order in
// which batches were put. A segment is written under a temporary name,
// synced, renamed into place and the directory synced: after a crash a
// segment is either whole or absent. The spool is bounded in bytes (what
// does not fit is refused with ErrFull, for the caller to count), survives
// restarts, and on Open removes the temporary files a crash left behind.
// Each segment carries its length, record count and a CRC-32C of its data:
// a segment found damaged when read is moved aside, never replayed.
//
// Layout of dir:
//
//	lock                        flock(2)ed while open: one process per spool
//	00000000004294967296.seg    a batch (header + data)
//	.tmp-*.seg                  a segment being written
//	rejected/                   segments moved aside, with a .reason file each
//
// A Spool is safe for concurrent use.
package spool

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ErrFull is returned by Put when the batch does not fit in the bound.
var ErrFull = errors.New("spool full")

// ErrCorrupt is wrapped in the errors about segments that fail their checks.
var ErrCorrupt = errors.New("corrupt spool segment")

// Segment is one spooled batch.
type Segment struct {
	Seq     uint64
	Data    []byte
	Records int
}

// Stats are a spool's counters.
type Stats struct {
	Segments     int
	Bytes        int64 // on disk, headers included
	Records      int64
	TempRemoved  uint64 // leftover temporary files removed (crashes)
	Corrupt      uint64 // damaged segments moved aside
	Rejected     uint64 // segments moved aside by MoveAside
	AsideDropped uint64 // segments deleted because rejected/ was full
}

// Segment header: magic, version, record count, data length, CRC-32C of
// the data; little endian.
const (
	magic      = "NKSP"
	version    = 1
	headerSize = 4 + 4 + 8 + 8 + 4
	segExt     = ".seg"
	tmpPrefix  = ".tmp-"
	asideDir   = "rejected"
	// firstSeq is the sequence number of the first segment of an empty
	// spool: Prepend numbers segments downwards from the oldest.
	firstSeq = 1 << 32
	// maxRecords bounds the record count read from a header.
	maxRecords = 1 << 40
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

type entry struct {
	seq     uint64
	size    int64 // file size
	records int64
	// writing is set while Put writes the segment's file.
	writing bool
}

// Spool is an open spool directory.
type Spool struct {
	dir      string
	maxBytes int64
	lock     *os.File

	mu      sync.Mutex
	entries []entry // by seq
	next    uint64
	bytes   int64
	records int64
	stats   Stats
	tmpSeq  uint64
	closed  bool
}

// Open opens (creating it) the spool in dir, bounded to maxBytes of
// segments. It takes an exclusive lock on the directory, removes the
// temporary files of an interrupted Put and indexes the segments present.
// Files it does not know are left alone.
func Open(dir string, maxBytes int64) (*Spool, error) {
	if maxBytes <= 0 {
		return nil, fmt.Errorf("spool %s: bound %d bytes is not positive", dir, maxBytes)
	}
	if err := os.MkdirAll(filepath.Join(dir, asideDir), 0o755); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	s := &Spool{dir: dir, maxBytes: maxBytes, lock: lock, next: firstSeq}
	if err := s.scan(); err != nil {
		lock.Close()
		return nil, err
	}
	return s, nil
}

func (s *Spool) scan() error {
	des, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	removed := false
	for _, de := range des {
		name := de.Name()
		if strings.HasPrefix(name, tmpPrefix) {
			if err := os.Remove(filepath.Join(s.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("spool: removing leftover %s: %w", name, err)
			}
			s.stats.TempRemoved++
			removed = true
			continue
		}
		seq, ok := parseName(name)
		if !ok || !de.Type().IsRegular() {
			continue
		}
		e := entry{seq: seq}
		if err := s.readHeader(&e); err != nil {
			// A damaged header: aside now, so that sizes add up.
			if err := s.aside(seq, err.Error()); err != nil {
				return err
			}
			s.stats.Corrupt++
			continue
		}
		s.entries = append(s.entries, e)
		s.bytes += e.size
		s.records += e.records
	}
	slices.SortFunc(s.entries, func(a, b entry) int {
		if a.seq < b.seq {
			return -1
		}
		if a.seq > b.seq {
			return 1
		}
		return 0
	})
	if n := len(s.entries); n > 0 {
		s.next = s.entries[n-1].seq + 1
	}
	if removed {
		return syncDir(s.dir)
	}
	return nil
}

// readHeader fills e's size and records from its file's header, checking
// that the file is as long as the header says.
func (s *Spool) readHeader(e *entry) error {
	f, err := os.Open(s.path(e.seq))
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	var h [headerSize]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return fmt.Errorf("%w: %s: short header (%d bytes)", ErrCorrupt, s.path(e.seq), fi.Size())
	}
	records, n, _, err := parseHeader(h[:])
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path(e.seq), err)
	}
	if fi.Size() != headerSize+int64(n) {
		return fmt.Errorf("%w: %s: %d bytes, header says %d", ErrCorrupt, s.path(e.seq), fi.Size(), headerSize+int64(n))
	}
	e.size, e.records = fi.Size(), int64(records)
	return nil
}

func parseHeader(h []byte) (records, n uint64, sum uint32, err error) {
	if string(h[:4]) != magic {
		return 0, 0, 0, errors.New("bad magic")
	}
	if v := binary.LittleEndian.Uint32(h[4:]); v != version {
		return 0, 0, 0, fmt.Errorf("unknown version %d", v)
	}
	records = binary.LittleEndian.Uint64(h[8:])
	n = binary.LittleEndian.Uint64(h[16:])
	if records > maxRecords || n > 1<<50 {
		return 0, 0, 0, fmt.Errorf("implausible header (%d records, %d bytes)", records, n)
	}
	return records, n, binary.LittleEndian.Uint32(h[24:]), nil
}

func parseName(name string) (uint64, bool) {
	base, ok := strings.CutSuffix(name, segExt)
	if !ok || len(base) != 20 {
		return 0, false
	}
	seq, err := strconv.ParseUint(base, 10, 64)
	return seq, err == nil
}

func (s *Spool) name(seq uint64) string { return fmt.Sprintf("%020d%s", seq, segExt) }
func (s *Spool) path(seq uint64) string { return filepath.Join(s.dir, s.name(seq)) }

// Put appends a batch of records behind every segment present. It returns
// an error wrapping ErrFull, and stores nothing, when the batch does not
// fit in the bound.
func (s *Spool) Put(batch []byte, records int) error { return s.put(batch, records, false) }

// Prepend stores a batch in front of every segment present: for batches
// older than the spooled ones (a sender's memory queue at shutdown,
// prepended newest first). Like Put, it refuses with ErrFull.
func (s *Spool) Prepend(batch []byte, records int) error { return s.put(batch, records, true) }

func (s *Spool) put(batch []byte, records int, front bool) error {
	size := int64(headerSize + len(batch))
	if records < 0 || records > maxRecords {
		return fmt.Errorf("spool %s: record count %d out of range", s.dir, records)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("spool %s: closed", s.dir)
	}
	if s.bytes+size > s.maxBytes {
		s.mu.Unlock()
		return fmt.Errorf("%w: %s holds %d bytes, bound %d, batch %d", ErrFull, s.dir, s.bytes, s.maxBytes, size)
	}
	// Reserve the room and the number now, so that concurrent puts
	// neither overfill nor reorder.
	var seq uint64
	if front && len(s.entries) > 0 {
		seq = s.entries[0].seq - 1
		if seq == 0 {
			s.mu.Unlock()
			return fmt.Errorf("spool %s: no sequence number left in front", s.dir)
		}
	} else {
		seq = s.next
		s.next++
	}
	s.bytes += size
	s.records += int64(records)
	e := entry{seq: seq, size: size, records: int64(records), writing: true}
	if front {
		s.entries = slices.Insert(s.entries, 0, e)
	} else {
		s.entries = append(s.entries, e)
	}
	s.tmpSeq++
	tmp := filepath.Join(s.dir, tmpPrefix+strconv.FormatUint(s.tmpSeq, 10)+segExt)
	s.mu.Unlock()

	err := s.write(tmp, s.path(seq), batch, records)
	if err != nil {
		os.Remove(tmp)
		s.mu.Lock()
		if i := s.find(seq); i >= 0 {
			s.entries = slices.Delete(s.entries, i, i+1)
			s.bytes -= size
			s.records -= int64(records)
		}
		s.mu.Unlock()
		return fmt.Errorf("spool %s: %w", s.dir, err)
	}
	s.mu.Lock()
	if i := s.find(seq); i >= 0 {
		s.entries[i].writing = false
	}
	s.mu.Unlock()
	return nil
}

func (s *Spool) write(tmp, final string, batch []byte, records int) error {
	var h [headerSize]byte
	copy(h[:], magic)
	binary.LittleEndian.PutUint32(h[4:], version)
	binary.LittleEndian.PutUint64(h[8:], uint64(records))
	binary.LittleEndian.PutUint64(h[16:], uint64(len(batch)))
	binary.LittleEndian.PutUint32(h[24:], crc32.Checksum(batch, castagnoli))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(h[:])
	if err == nil {
		_, err = f.Write(batch)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(s.dir)
	}
	return err
}

// find returns the index of seq in s.entries, or -1. s.mu is held.
func (s *Spool) find(seq uint64) int {
	i, ok := slices.BinarySearchFunc(s.entries, seq, func(e entry, seq uint64) int {
		if e.seq < seq {
			return -1
		}
		if e.seq > seq {
			return 1
		}
		return 0
	})
	if !ok {
		return -1
	}
	return i
}

// Oldest returns the segment with the lowest sequence number, read and
// checked; ok is false when the spool is empty, or while that segment is
// still being written by a concurrent Put (Len counts it). A damaged segment is moved
// aside (counted in Stats.Corrupt) and the next one returned; err is
// reported only for failures to read or move.
func (s *Spool) Oldest() (seg Segment, ok bool, err error) {
	for {
		s.mu.Lock()
		if len(s.entries) == 0 {
			s.mu.Unlock()
			return Segment{}, false, nil
		}
		e := s.entries[0]
		s.mu.Unlock()
		if e.writing {
			return Segment{}, false, nil
		}
		data, records, err := s.read(e)
		if err == nil {
			return Segment{Seq: e.seq, Data: data, Records: records}, true, nil
		}
		if !errors.Is(err, ErrCorrupt) {
			return Segment{}, false, err
		}
		if merr := s.moveAside(e.seq, err.Error(), false); merr != nil {
			return Segment{}, false, merr
		}
		s.mu.Lock()
		s.stats.Corrupt++
		s.mu.Unlock()
	}
}

func (s *Spool) read(e entry) ([]byte, int, error) {
	b, err := os.ReadFile(s.path(e.seq))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, 0, fmt.Errorf("%w: %s vanished", ErrCorrupt, s.path(e.seq))
		}
		return nil, 0, err
	}
	if len(b) < headerSize {
		return nil, 0, fmt.Errorf("%w: %s: short header (%d bytes)", ErrCorrupt, s.path(e.seq), len(b))
	}
	records, n, sum, err := parseHeader(b)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path(e.seq), err)
	}
	data := b[headerSize:]
	if uint64(len(data)) != n {
		return nil, 0, fmt.Errorf("%w: %s: %d data bytes, header says %d", ErrCorrupt, s.path(e.seq), len(data), n)
	}
	if crc32.Checksum(data, castagnoli) != sum {
		return nil, 0, fmt.Errorf("%w: %s: checksum mismatch", ErrCorrupt, s.path(e.seq))
	}
	return data, int(records), nil
}

// Remove deletes a segment (delivered). If the file cannot be deleted the
// segment is still forgotten until the next Open, and the error returned.
func (s *Spool) Remove(seq uint64) error {
	s.mu.Lock()
	i := s.find(seq)
	if i < 0 {
		s.mu.Unlock()
		return fmt.Errorf("spool %s: no segment %d", s.dir, seq)
	}
	s.mu.Unlock()
	err := os.Remove(s.path(seq))
	// Forgotten even if the file stays: it is not handed out again in
	// this run (a restart would replay it).
	s.forget(seq)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	return nil
}

func (s *Spool) forget(seq uint64) {
	s.mu.Lock()
	if i := s.find(seq); i >= 0 {
		s.bytes -= s.entries[i].size
		s.records -= s.entries[i].records
		s.entries = slices.Delete(s.entries, i, i+1)
	}
	s.mu.Unlock()
}

// MoveAside moves a segment into dir/rejected/, beside a file that says
// why: a batch the receiver refused, kept for inspection and never
// replayed. rejected/ holds at most the spool's bound; past it the
// segment is deleted instead (Stats.AsideDropped).
func (s *Spool) MoveAside(seq uint64, reason string) error {
	if err := s.moveAside(seq, reason, true); err != nil {
		return err
	}
	return nil
}

func (s *Spool) moveAside(seq uint64, reason string, rejected bool) error {
	s.mu.Lock()
	if s.find(seq) < 0 {
		s.mu.Unlock()
		return fmt.Errorf("spool %s: no segment %d", s.dir, seq)
	}
	s.mu.Unlock()
	if err := s.aside(seq, reason); err != nil {
		return err
	}
	s.forget(seq)
	if rejected {
		s.mu.Lock()
		s.stats.Rejected++
		s.mu.Unlock()
	}
	return nil
}

// aside moves segment seq's file into rejected/ (or deletes it when
// rejected/ is full) and writes the reason beside it.
func (s *Spool) aside(seq uint64, reason string) error {
	dst := filepath.Join(s.dir, asideDir)
	src := s.path(seq)
	fi, err := os.Stat(src)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	if err != nil {
		return nil // already gone
	}
	if asideBytes(dst)+fi.Size() > s.maxBytes {
		if err := os.Remove(src); err != nil {
			return fmt.Errorf("spool: %w", err)
		}
		s.mu.Lock()
		s.stats.AsideDropped++
		s.mu.Unlock()
		return nil
	}
	if err := os.WriteFile(filepath.Join(dst, s.name(seq)+".reason"), []byte(reason+"\n"), 0o644); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := os.Rename(src, filepath.Join(dst, s.name(seq))); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	return syncDir(s.dir)
}

// PutAside writes a batch straight into rejected/ with its reason: a
// batch refused before it was ever spooled. It is bounded like MoveAside.
func (s *Spool) PutAside(batch []byte, records int, reason string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return fmt.Errorf("spool %s: closed", s.dir)
	}
	seq := s.next
	s.next++
	s.tmpSeq++
	tmp := filepath.Join(s.dir, tmpPrefix+strconv.FormatUint(s.tmpSeq, 10)+segExt)
	s.stats.Rejected++
	s.mu.Unlock()
	dst := filepath.Join(s.dir, asideDir)
	if asideBytes(dst)+int64(headerSize+len(batch)) > s.maxBytes {
		s.mu.Lock()
		s.stats.AsideDropped++
		s.mu.Unlock()
		return nil
	}
	if err := os.WriteFile(filepath.Join(dst, s.name(seq)+".reason"), []byte(reason+"\n"), 0o644); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := s.write(tmp, filepath.Join(dst, s.name(seq)), batch, records); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("spool %s: %w", s.dir, err)
	}
	return nil
}

func asideBytes(dir string) int64 {
	des, _ := os.ReadDir(dir)
	var n int64
	for _, de := range des {
		if fi, err := de.Info(); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// Bytes returns the bytes of the segments on disk, headers included.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Len returns the number of segments.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.entries)
}

// Records returns the records in the segments.
func (s *Spool) Records() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records
}

// Stats returns the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Segments, st.Bytes, st.Records = len(s.entries), s.bytes, s.records
	return st
}

// Dir returns the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Close releases the directory's lock. The segments stay for the next Open.
func (s *Spool) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	return s.lock.Close()
}

// syncDir makes renames and removals in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
