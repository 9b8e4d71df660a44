package collector

import (
	"io"
	"log/slog"
	"time"
)

// FileSink appends to one file (-o), compressed by its name's extension:
// one gzip member or zstd frame per chunk, so that the file is valid up to
// its last whole chunk whatever happens, and workers compress in parallel.
// Rotate (SIGHUP) reopens the name, for logrotate.
type FileSink struct {
	codec Codec
	file  *dataFile
	log   *slog.Logger
}

// NewFileSink opens path for appending (creating it), so that an output
// that cannot be written is reported at start.
func NewFileSink(path string, log *slog.Logger) (*FileSink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	codec := CodecFor(path)
	f, err := openAppend(path, codec, log)
	if err != nil {
		return nil, err
	}
	return &FileSink{codec: codec, file: f, log: log}, nil
}

// NewFramer returns the compressor of a worker.
func (s *FileSink) NewFramer() (Framer, error) { return newFramer(s.codec) }

// Write appends a chunk, or nothing.
func (s *FileSink) Write(c Chunk) error { return s.file.write(c.Data) }

// Rotate reopens the file's name: after logrotate moved the file, a new
// one starts; otherwise writing goes on in the same file.
func (s *FileSink) Rotate(time.Time) error {
	if s.file.plain {
		return nil
	}
	f, err := openAppend(s.file.path, s.codec, s.log)
	if err != nil {
		return err
	}
	old := s.file
	s.file = f
	return old.close()
}

// Tick notices a deleted or moved file between writes.
func (s *FileSink) Tick(time.Time) error { return s.file.check() }

// Close syncs and closes the file.
func (s *FileSink) Close() error { return s.file.close() }

// WriterSink writes plain chunks to a writer (standard output, -o -).
type WriterSink struct {
	W io.Writer
}

// Write writes the chunk.
func (s WriterSink) Write(c Chunk) error { _, err := s.W.Write(c.Data); return err }

// Rotate does nothing.
func (WriterSink) Rotate(time.Time) error { return nil }

// Tick does nothing.
func (WriterSink) Tick(time.Time) error { return nil }

// Close does nothing: the writer is the caller's.
func (WriterSink) Close() error { return nil }
